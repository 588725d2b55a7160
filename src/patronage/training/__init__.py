"""Training content shipped with Patronage: the bilingual starter curriculum."""
