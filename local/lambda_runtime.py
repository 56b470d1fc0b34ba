"""Run the very same Lambda handler modules in-process: loading by file path and a fake context.

Each ``functions/<group>/handler.py`` is imported once, under a unique module name, on first
use (so a handler that lands while the stack runs is picked up without a restart). A failed
import is not cached: fix the file and the next request imports it again.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger("local.lambda")

ACCOUNT_ID = "000000000000"
HANDLER_FILE = "handler.py"
API_TIMEOUT_SECONDS = 29  # API Gateway's integration timeout
AGENT_TIMEOUT_SECONDS = 60

Handler = Callable[[dict[str, Any], Any], Any]


class HandlerMissing(LookupError):
    """The function folder has no handler file (yet), or the file lacks the named function."""


class HandlerLoadFailed(RuntimeError):
    """Importing the handler module raised; carries the traceback text for the error answer."""


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    aws_request_id: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    timeout_seconds: float = API_TIMEOUT_SECONDS
    _started: float = field(default_factory=time.monotonic, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


def make_context(
    function_name: str,
    *,
    request_id: str | None = None,
    timeout_seconds: float = API_TIMEOUT_SECONDS,
    region: str = "us-east-1",
    memory_mb: int = 256,
) -> LambdaContext:
    return LambdaContext(
        function_name=function_name,
        aws_request_id=request_id or str(uuid.uuid4()),
        invoked_function_arn=f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}",
        memory_limit_in_mb=memory_mb,
        log_group_name=f"/aws/lambda/{function_name}",
        log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
        timeout_seconds=timeout_seconds,
    )


class FunctionRegistry:
    """Imports ``<functions_dir>/<group>/handler.py`` modules once each, thread-safely."""

    def __init__(self, functions_dir: Path, *, name_prefix: str = "exception-playbooks-local"):
        self.functions_dir = functions_dir
        self.name_prefix = name_prefix
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()
        self._sibling_owner: dict[str, str] = {}  # top-level module name -> group that brought it

    def function_name(self, group: str, handler: str = "lambda_handler") -> str:
        suffix = "" if handler == "lambda_handler" else f"-{handler.removesuffix('_handler')}"
        return f"{self.name_prefix}-{group}{suffix}"

    def path(self, group: str) -> Path:
        return self.functions_dir / group / HANDLER_FILE

    def available(self, group: str) -> bool:
        return self.path(group).is_file()

    def module(self, group: str) -> ModuleType:
        loaded = self._modules.get(group)
        if loaded is not None:
            return loaded
        with self._lock:
            loaded = self._modules.get(group)
            if loaded is None:
                loaded = self._import(group)
                self._modules[group] = loaded
            return loaded

    def handler(self, group: str, name: str = "lambda_handler") -> Handler:
        function = getattr(self.module(group), name, None)
        if not callable(function):
            raise HandlerMissing(f"functions/{group}/{HANDLER_FILE} has no function {name}()")
        return function

    def warm(self, groups: list[str] | tuple[str, ...]) -> list[str]:
        """Import every available group now (off the request path); returns the groups that loaded."""
        loaded = []
        for group in groups:
            if not self.available(group):
                continue
            try:
                self.module(group)
                loaded.append(group)
            except HandlerLoadFailed as error:
                log.error("%s", error)
        return loaded

    def _import(self, group: str) -> ModuleType:
        path = self.path(group)
        if not path.is_file():
            raise HandlerMissing(f"functions/{group}/{HANDLER_FILE} does not exist yet")
        self._add_folder_to_path_if_needed(group, path.parent)
        module_name = f"_local_functions_{group}_handler"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise HandlerLoadFailed(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        # Registered before executing, as a normal import would: pydantic and dataclasses look
        # the module up in sys.modules while the module body runs.
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            sys.modules.pop(module_name, None)
            detail = traceback.format_exc(limit=8)
            raise HandlerLoadFailed(
                f"importing functions/{group}/{HANDLER_FILE} failed:\n{detail}"
            ) from error
        log.info("loaded functions/%s/%s", group, HANDLER_FILE)
        return module

    def _add_folder_to_path_if_needed(self, group: str, folder: Path) -> None:
        """In Lambda the function folder is the code root, so a handler may import its siblings.

        Only then is the folder put on ``sys.path`` (first, like ``/var/task``); two folders
        bringing the same top-level module name would shadow each other, so that is reported.
        """
        siblings = {
            p.stem if p.suffix == ".py" else p.name
            for p in folder.iterdir()
            if (p.suffix == ".py" and p.name != HANDLER_FILE) or (p.is_dir() and (p / "__init__.py").exists())
        }
        if not siblings:
            return
        for name in sorted(siblings):
            owner = self._sibling_owner.setdefault(name, group)
            if owner != group:
                log.warning(
                    "functions/%s and functions/%s both define top-level module %r; one shadows the other",
                    owner,
                    group,
                    name,
                )
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
