"""Message delivery for care journeys and webhooks: channels and bilingual templates."""
