"""CloudStack's error envelope: HTTP status = errorcode, plus cserrorcode and errortext.

errorcode values are CloudStack's ApiErrorCode; cserrorcode values its CSExceptionErrorCode.
"""

from __future__ import annotations

# ApiErrorCode
UNAUTHORIZED = 401
MALFORMED_PARAMETER_ERROR = 430
PARAM_ERROR = 431
UNSUPPORTED_ACTION_ERROR = 432
API_LIMIT_EXCEED = 429
INTERNAL_ERROR = 530
ACCOUNT_ERROR = 531
ACCOUNT_RESOURCE_LIMIT_ERROR = 532
INSUFFICIENT_CAPACITY_ERROR = 533
RESOURCE_UNAVAILABLE_ERROR = 534
RESOURCE_ALLOCATION_ERROR = 535
RESOURCE_IN_USE_ERROR = 536
NETWORK_RULE_CONFLICT_ERROR = 537

# CSExceptionErrorCode
CS_CLOUD_RUNTIME = 4250
CS_CONCURRENT_OPERATION = 4300
CS_INSUFFICIENT_CAPACITY = 4325
CS_INSUFFICIENT_SERVER_CAPACITY = 4335
CS_INSUFFICIENT_STORAGE_CAPACITY = 4340
CS_INVALID_PARAMETER_VALUE = 4350
CS_PERMISSION_DENIED = 4365
CS_RESOURCE_ALLOCATION = 4370
CS_RESOURCE_IN_USE = 4375
CS_RESOURCE_UNAVAILABLE = 4380
CS_SERVER_API = 9999

UNKNOWN_COMMAND_TEXT = "The given command does not exist or it is not available for user"


class ApiError(Exception):
    """An answer in CloudStack's error envelope. Raising it rolls back the unit of work."""

    def __init__(self, errorcode: int, text: str, cserrorcode: int = CS_SERVER_API) -> None:
        super().__init__(text)
        self.errorcode = errorcode
        self.cserrorcode = cserrorcode
        self.text = text


def param_error(text: str) -> ApiError:
    """Missing, malformed or invalid parameter value (InvalidParameterValueException)."""
    return ApiError(PARAM_ERROR, text, CS_INVALID_PARAMETER_VALUE)


def not_found(entity: str, value: str, param: str = "id") -> ApiError:
    return param_error(f"Unable to find {entity} with specified {param}: {value}")


def permission_denied(text: str) -> ApiError:
    return ApiError(ACCOUNT_ERROR, text, CS_PERMISSION_DENIED)


def in_use(text: str) -> ApiError:
    return ApiError(RESOURCE_IN_USE_ERROR, text, CS_RESOURCE_IN_USE)


def unavailable(text: str) -> ApiError:
    return ApiError(RESOURCE_UNAVAILABLE_ERROR, text, CS_RESOURCE_UNAVAILABLE)


def insufficient_capacity(text: str) -> ApiError:
    return ApiError(INSUFFICIENT_CAPACITY_ERROR, text, CS_INSUFFICIENT_CAPACITY)


def limit_exceeded(text: str) -> ApiError:
    return ApiError(RESOURCE_ALLOCATION_ERROR, text, CS_RESOURCE_ALLOCATION)


def internal_error(text: str) -> ApiError:
    return ApiError(INTERNAL_ERROR, text, CS_CLOUD_RUNTIME)


def unauthorized(text: str = "unable to verify user credentials and/or request signature") -> ApiError:
    return ApiError(UNAUTHORIZED, text, CS_SERVER_API)


def unknown_command() -> ApiError:
    return ApiError(UNSUPPORTED_ACTION_ERROR, UNKNOWN_COMMAND_TEXT, CS_SERVER_API)
