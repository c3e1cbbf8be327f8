"""movement_profiles: the Python SDK of the /movement-profiles contract.

Other services read and write users' training preferences, goals and custom fields through this
package instead of hand-written HTTP, and admins change the catalogue of fields and allowed values
(`movement_profiles.catalogue`). It talks to the Supabase project's REST API (PostgREST) over
httpx, so the database's row-level security and CHECK constraints stay the authority; the SDK
validates early, with the database's own words, and maps every answer to a model or to one
exception of `movement_profiles.errors`.

    from movement_profiles import MovementProfilesClient, MovementProfileCreate

    with MovementProfilesClient.from_env(service_role=True) as client:
        profile = client.get("11111111-1111-4111-8111-111111111111")
"""

from typing import TYPE_CHECKING

from movement_profiles.errors import (
    AuthError,
    ConfigurationError,
    ConflictError,
    ConnectError,
    ConnectionLostError,
    MovementProfilesError,
    NotFoundError,
    PermissionDeniedError,
    ResponseTimeoutError,
    ServerError,
    ServiceUnavailableError,
    StaleUpdateError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)
from movement_profiles.options import Goal, TrainingPreference

if TYPE_CHECKING:
    from movement_profiles._async import AsyncMovementProfilesClient
    from movement_profiles._core import MAX_PAGE_SIZE, RetryPolicy
    from movement_profiles._sync import MovementProfilesClient
    from movement_profiles.catalogue import (
        Catalogue,
        CatalogueChange,
        CatalogueField,
        CatalogueValue,
    )
    from movement_profiles.models import (
        MovementProfile,
        MovementProfileCreate,
        MovementProfileOptions,
        MovementProfileUpdate,
    )

__all__ = [
    "MAX_PAGE_SIZE",
    "AsyncMovementProfilesClient",
    "AuthError",
    "Catalogue",
    "CatalogueChange",
    "CatalogueField",
    "CatalogueValue",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectionLostError",
    "Goal",
    "MovementProfile",
    "MovementProfileCreate",
    "MovementProfileOptions",
    "MovementProfileUpdate",
    "MovementProfilesClient",
    "MovementProfilesError",
    "NotFoundError",
    "PermissionDeniedError",
    "ResponseTimeoutError",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailableError",
    "StaleUpdateError",
    "TrainingPreference",
    "TransportError",
    "UnexpectedResponseError",
    "ValidationError",
]

# Where the heavy public names live. They are imported on first use (PEP 562), so importing the
# package, its enums or its errors stays cheap: the CLI's `--help` never loads pydantic or httpx.
_LAZY_MODULES = {
    "AsyncMovementProfilesClient": "movement_profiles._async",
    "MovementProfilesClient": "movement_profiles._sync",
    "MAX_PAGE_SIZE": "movement_profiles._core",
    "RetryPolicy": "movement_profiles._core",
    **dict.fromkeys(
        ["Catalogue", "CatalogueChange", "CatalogueField", "CatalogueValue"],
        "movement_profiles.catalogue",
    ),
    **dict.fromkeys(
        [
            "MovementProfile",
            "MovementProfileCreate",
            "MovementProfileOptions",
            "MovementProfileUpdate",
        ],
        "movement_profiles.models",
    ),
}


def __getattr__(name: str) -> object:
    module_name = _LAZY_MODULES.get(name)
    if module_name is None:
        raise AttributeError(f"module 'movement_profiles' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
