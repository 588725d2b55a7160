"""The unit of work: the only place a transaction commits."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session, SessionTransaction

from patronage.clock import Clock, system_clock
from patronage.storage.analytics_result_repositories import AnalyticsResultRepository
from patronage.storage.background_job_repositories import BackgroundJobRepository
from patronage.storage.complaint_repositories import ComplaintRepository
from patronage.storage.coupon_repositories import CouponRepository
from patronage.storage.db import reader
from patronage.storage.engagement_repositories import EngagementRepository
from patronage.storage.journey_repositories import JourneyRepository
from patronage.storage.offer_repositories import OfferRepository
from patronage.storage.outbox_repositories import OutboxRepository, WebhookRepository
from patronage.storage.personalisation_repositories import (
    MembershipRepository,
    RecommendationRepository,
)
from patronage.storage.privacy_repositories import PrivacyRepository
from patronage.storage.reference import Reference, cache_of
from patronage.storage.repositories import (
    AuditRepository,
    EventRepository,
    IdempotencyRepository,
    JobRepository,
    KeyRepository,
    LedgerRepository,
    MemberRepository,
    ProgramRepository,
)
from patronage.storage.reward_repositories import RewardRepository
from patronage.storage.segment_repositories import SegmentRepository
from patronage.storage.survey_repositories import SurveyRepository
from patronage.storage.training_repositories import TrainingRepository
from patronage.storage.wallet_repositories import StoredValueRepository
from patronage.storage.web_repositories import (
    PortalCodeRepository,
    SignInAttemptRepository,
    StaffUserRepository,
)


class UnitOfWork:
    """``with uow: ...; uow.commit()``. Leaving the block without commit rolls back.

    ``read_only`` units of work only read (storage.db.reader): no transaction round
    trips on PostgreSQL, no queueing behind writers on SQLite.
    A unit of work may be given the ``reference_token`` its caller has just read
    (storage/reference.py); otherwise it reads the token when first needed."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock = system_clock,
        *,
        read_only: bool = False,
        reference_token: int | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.read_only = read_only
        self.reference_token = reference_token

    def __enter__(self) -> UnitOfWork:
        bind = reader(self.engine) if self.read_only else self.engine
        self.session = Session(bind, expire_on_commit=False, autoflush=True)
        self.reference = Reference(
            self.session, cache_of(self.engine), self.reference_token, self.read_only
        )
        self.session.info["reference"] = self.reference  # for repositories made from a session
        self.programs = ProgramRepository(self.session, self.reference)
        self.members = MemberRepository(self.session)
        self.events = EventRepository(self.session)
        self.ledger = LedgerRepository(self.session)
        self.idempotency = IdempotencyRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.keys = KeyRepository(self.session, self.reference)
        self.jobs = JobRepository(self.session)
        self.surveys = SurveyRepository(self.session)
        self.complaints = ComplaintRepository(self.session)
        self.rewards = RewardRepository(self.session)
        self.coupons = CouponRepository(self.session)
        self.stored_value = StoredValueRepository(self.session)
        self.privacy = PrivacyRepository(self.session)
        self.engagement = EngagementRepository(self.session)
        self.training = TrainingRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.webhooks = WebhookRepository(self.session, self.reference)
        self.journeys = JourneyRepository(self.session)
        self.staff_users = StaffUserRepository(self.session)
        self.sign_in_attempts = SignInAttemptRepository(self.session)
        self.portal_codes = PortalCodeRepository(self.session)
        self.recommendations = RecommendationRepository(self.session)
        self.memberships = MembershipRepository(self.session, self.reference)
        self.offers = OfferRepository(self.session)
        self.segments = SegmentRepository(self.session)
        self.background_jobs = BackgroundJobRepository(self.session)
        self.analytics_results = AnalyticsResultRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def savepoint(self) -> SessionTransaction:
        """A nested transaction: ``with uow.savepoint(): ...`` undoes just its block on error."""
        return self.session.begin_nested()

    def rollback(self) -> None:
        self.session.rollback()

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"
