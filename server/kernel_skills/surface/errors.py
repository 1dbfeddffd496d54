"""Domain errors -> MCP errors, translated in this one place.

Two channels: a tool that fails returns an ``isError`` result whose text the agent can
act on (we raise the SDK's ``ToolError``); a resource or extension request that fails gets a JSON-RPC
error (``MCPError``). Never a traceback. Every ``KernelSkillsError`` subclass has a row in ``KINDS``;
a test fails if one is added to ``kernel_skills.errors`` without a row here.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS

from kernel_skills.errors import (
    CompileError,
    DeviceUnavailable,
    EmulatorFault,
    EmulatorUnsupported,
    EndpointError,
    KernelFault,
    KernelSkillsError,
    MissingDependency,
    NoAnswers,
    ProblemError,
    RefusedInput,
    ServerFault,
    SkillError,
    TeacherReplyError,
    Timeout,
    ToolsUnsupported,
    errno_text,
    missing_module,
)

_F = TypeVar("_F", bound=Callable[..., Any])
_LOG = logging.getLogger(__name__)


class ErrorKind(NamedTuple):
    label: str  # first words of the message the agent reads
    code: int  # JSON-RPC code when the error travels as a protocol error


KINDS: dict[type[KernelSkillsError], ErrorKind] = {
    RefusedInput: ErrorKind("refused", INVALID_PARAMS),
    EmulatorUnsupported: ErrorKind("emulator cannot run this", INVALID_PARAMS),
    ProblemError: ErrorKind("problem module error", INTERNAL_ERROR),  # the server's trusted author's fault
    SkillError: ErrorKind("skill error", INVALID_PARAMS),
    CompileError: ErrorKind("compiler unavailable", INTERNAL_ERROR),
    DeviceUnavailable: ErrorKind("no GPU", INTERNAL_ERROR),
    MissingDependency: ErrorKind("not installed", INTERNAL_ERROR),
    KernelFault: ErrorKind("kernel fault", INTERNAL_ERROR),
    EmulatorFault: ErrorKind("kernel fault", INTERNAL_ERROR),  # what the engine found the kernel do
    EndpointError: ErrorKind("error", INTERNAL_ERROR),  # an eval's model, not a tool's (as before the move)
    NoAnswers: ErrorKind("error", INTERNAL_ERROR),
    ToolsUnsupported: ErrorKind("error", INTERNAL_ERROR),
    TeacherReplyError: ErrorKind("skill error", INVALID_PARAMS),
    Timeout: ErrorKind("timed out", INTERNAL_ERROR),
    ServerFault: ErrorKind("server fault", INTERNAL_ERROR),  # the machine, not the submission
    KernelSkillsError: ErrorKind("error", INTERNAL_ERROR),
}


def kind_of(exc: KernelSkillsError) -> ErrorKind:
    for cls in type(exc).__mro__:
        if cls in KINDS:
            return KINDS[cls]  # type: ignore[index]
    return KINDS[KernelSkillsError]


def message(exc: KernelSkillsError) -> str:
    """The text an agent reads: what kind of failure, then the domain message (what was wrong / accepted)."""
    return f"{kind_of(exc).label}: {exc}"


def tool_error(exc: KernelSkillsError) -> ToolError:
    """A tool failure: the SDK turns it into an ``isError`` result carrying this message."""
    return ToolError(message(exc))


def protocol_error(exc: KernelSkillsError, **data: Any) -> MCPError:
    """A JSON-RPC error for resources/read, skills/get and other non-tool requests."""
    return MCPError(code=kind_of(exc).code, message=message(exc), data=data or None)


def invalid_params(text: str, **data: Any) -> MCPError:
    """A JSON-RPC -32602 for input that never reached the domain (bad URI shape, bad cursor)."""
    return MCPError(code=INVALID_PARAMS, message=text, data=data or None)


def unexpected(tool: str, exc: BaseException, request_id: object = None) -> ServerFault:
    """A ``ServerFault`` for an exception no domain code mapped, logged with its traceback: the
    client reads the tool, the request id and the cause, never a bare "Error executing tool"."""
    where = f"{tool} (request {request_id})" if request_id is not None else tool
    cause = errno_text(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
    if isinstance(exc, OSError) and exc.filename:
        cause = f"{exc.filename}: {cause}"
    _LOG.error("unexpected error in %s: %s", where, cause, exc_info=exc)
    return ServerFault(
        f"{where} failed on the server ({cause}); the server logged the details and keeps serving. "
        "Nothing was judged or stored by this call; it may be retried"
    )


def _unmapped(tool: str, exc: Exception, request_id: object) -> KernelSkillsError:
    """An optional package missing deep in a job (torch, CuPy, Ray) is its named error; anything else
    no domain code mapped is a ServerFault."""
    if isinstance(exc, ModuleNotFoundError) and (named := missing_module(exc)) is not None:
        return named
    return unexpected(tool, exc, request_id)


def _request_id(args: tuple[Any, ...], kwargs: dict[str, Any]) -> object:
    for value in (*args, *kwargs.values()):
        if type(value).__name__ == "Context":
            try:
                return value.request_id
            except Exception:  # outside a request (a direct call in a test)
                return None
    return None


def tool_errors(fn: _F) -> _F:
    """Decorate a tool function (sync or async) so domain errors become tool errors, here and only
    here; any other exception becomes a named ``ServerFault`` (logged with its traceback)."""
    name = getattr(fn, "__name__", "tool")
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except KernelSkillsError as exc:
                raise tool_error(exc) from exc
            except (ToolError, MCPError):
                raise
            except Exception as exc:
                raise tool_error(_unmapped(name, exc, _request_id(args, kwargs))) from exc

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except KernelSkillsError as exc:
            raise tool_error(exc) from exc
        except (ToolError, MCPError):
            raise
        except Exception as exc:
            raise tool_error(_unmapped(name, exc, _request_id(args, kwargs))) from exc

    return wrapper  # type: ignore[return-value]
