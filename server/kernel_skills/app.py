"""Builds the MCP server: the skill catalog as resources, SEP-2640 methods and tools, plus the kernel tools.

Thin on purpose: the catalog, toolchain and bench packages do the work; ``kernel_skills.surface`` adapts
them to MCP. Nothing GPU-related is imported here (start-up stays fast; the server runs without CUDA).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.subscriptions import InMemorySubscriptionBus
from pydantic import BaseModel, Field

from kernel_skills import __version__, tempdirs
from kernel_skills.runtime import Runtime
from kernel_skills.surface import bench_tools, compile_tools, completions, prompts, skills
from kernel_skills.surface.client_log import ClientLog
from kernel_skills.surface.guidance import instructions, missing_here, verdicts_where
from kernel_skills.surface.lifespan import RuntimeHold, Served
from kernel_skills.surface.notify import ChangeNotifier
from kernel_skills.surface.prompts import PromptSources
from kernel_skills.surface.skills_ext import SkillsExtension
from kernel_skills.surface.state import SkillsState

if TYPE_CHECKING:
    from kernel_skills.bench import ProblemRegistry
    from kernel_skills.catalog import Catalog

SERVER_NAME = "kernel-skills"


class ServerConfig(BaseModel):
    """What `kernel-skills serve` needs to build the server (the transport is the command's business)."""

    skills_dirs: list[Path] = Field(
        default_factory=list, description="--skills-dir roots, first wins a clash"
    )
    use_env: bool = Field(True, description="also read roots from KERNEL_SKILLS_PATH")
    bundled: bool = Field(True, description="serve the bundled skills")
    agent_dirs: bool = Field(False, description="also serve .claude/skills, .agents/skills, ~/.claude/skills")
    problems_dirs: list[Path] = Field(
        default_factory=list, description="--problems-dir: trusted folders of extra benchmark problems"
    )
    debounce_ms: int = Field(50, ge=0, le=5_000, description="file-watch debounce before a reload")
    record_dir: Path | None = Field(
        None, description="--record: trace each client's kernel work in this folder"
    )
    expose_paths: bool = Field(
        False, description="--expose-paths: show clients absolute server paths (default: root labels)"
    )

    def load_catalog(self) -> Catalog:
        """Scan every root; called once, in a worker thread, when the server starts serving."""
        from kernel_skills.catalog import Catalog, CatalogConfig

        roots = CatalogConfig(
            skills_dirs=self.skills_dirs,
            use_env=self.use_env,
            bundled=self.bundled,
            agent_dirs=self.agent_dirs,
            expose_paths=self.expose_paths,
        )
        return Catalog.from_config(roots)

    def load_problems(self) -> ProblemRegistry:
        """The benchmark problems (bundled + --problems-dir), loaded per call so new files show up."""
        from kernel_skills.bench import load_registry

        return load_registry(self.problems_dirs)


@dataclass(frozen=True)
class App:
    server: MCPServer
    state: SkillsState
    client_log: ClientLog
    runtime: Runtime


def build(config: ServerConfig, runtime: Runtime | None = None) -> App:
    """The server. ``runtime``: the executor, toolchain and results DB its tools use, the caller's to
    close (``serve`` and the agentic eval pass the command's); None: the server makes a local one and
    closes it when its last lifespan exits (see ``surface/lifespan.py``)."""
    tempdirs.sweep()  # temp folders of servers that exited without removing them (never by age)
    bus = InMemorySubscriptionBus()
    state = SkillsState(config.load_catalog, ChangeNotifier(bus), debounce_ms=config.debounce_ms)
    client_log = ClientLog(state.notifier)
    hold = RuntimeHold(runtime or Runtime.create(), owned=runtime is None)

    @asynccontextmanager
    async def lifespan(server: Any) -> AsyncIterator[Served]:
        async with client_log.forwarding(), state.lifespan(server) as skills, hold.held() as held:
            yield Served(state=skills, runtime=held)

    where = verdicts_where(hold.runtime.executor)
    server = MCPServer(
        SERVER_NAME,
        version=__version__,
        instructions=instructions(where, missing_here() if where == "emulator" else None),
        lifespan=lifespan,
        subscriptions=bus,
        extensions=[SkillsExtension(state)],
    )
    state.notifier.install(server)
    client_log.install(server)
    skills.register(server, state)
    sources = PromptSources(state, config.load_problems, where=where, db=lambda: hold.runtime.db_path)
    prompts.register(server, sources)
    completions.register(server, sources)
    compile_tools.register(server)
    bench_tools.register(server, problems_dirs=config.problems_dirs)
    if config.record_dir is not None:
        from kernel_skills.surface.recording import Recording
        from kernel_skills.traces import TraceRecorder

        Recording(TraceRecorder(config.record_dir)).install(server)
    return App(server=server, state=state, client_log=client_log, runtime=hold.runtime)


def build_server(config: ServerConfig, runtime: Runtime | None = None) -> MCPServer:
    return build(config, runtime).server
