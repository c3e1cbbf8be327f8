"""movement_profiles: the Python SDK of the /movement-profiles contract.

Other services read and write users' training preferences and goals through this package instead
of hand-written HTTP. It talks to the Supabase project's REST API (PostgREST) with supabase-py's
postgrest client, so the database's row-level security and CHECK constraints stay the authority;
the SDK validates early, with the database's own words, and maps every answer to a model or to one
exception of `movement_profiles.errors`.

    from movement_profiles import MovementProfilesClient, MovementProfileCreate

    with MovementProfilesClient.from_env(service_role=True) as client:
        profile = client.get("11111111-1111-4111-8111-111111111111")
"""

from movement_profiles._async import AsyncMovementProfilesClient
from movement_profiles._core import MAX_PAGE_SIZE, RetryPolicy
from movement_profiles._sync import MovementProfilesClient
from movement_profiles.errors import (
    AuthError,
    ConfigurationError,
    ConflictError,
    MovementProfilesError,
    NotFoundError,
    PermissionDeniedError,
    ServiceUnavailableError,
    StaleUpdateError,
    UnexpectedResponseError,
    ValidationError,
)
from movement_profiles.models import (
    Goal,
    MovementProfile,
    MovementProfileCreate,
    MovementProfileOptions,
    MovementProfileUpdate,
    TrainingPreference,
)

__all__ = [
    "MAX_PAGE_SIZE",
    "AsyncMovementProfilesClient",
    "AuthError",
    "ConfigurationError",
    "ConflictError",
    "Goal",
    "MovementProfile",
    "MovementProfileCreate",
    "MovementProfileOptions",
    "MovementProfileUpdate",
    "MovementProfilesClient",
    "MovementProfilesError",
    "NotFoundError",
    "PermissionDeniedError",
    "RetryPolicy",
    "ServiceUnavailableError",
    "StaleUpdateError",
    "TrainingPreference",
    "UnexpectedResponseError",
    "ValidationError",
]
