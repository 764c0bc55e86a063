"""`clusterstack` command line: each layer owns its sub-commands; this module only gathers them.

Sub-command groups are imported lazily so that `clusterstack sim run` does not pay for the
management server's imports (and the other way round).
"""

from __future__ import annotations

import importlib
import importlib.util

import click

# name -> "module:attribute" of a click command or group
_SUBCOMMANDS: dict[str, str] = {
    "sim": "clusterstack.simulator.cli:sim",
    "serve": "clusterstack.server.cli:serve",
    "db": "clusterstack.server.cli:db",
    "admin": "clusterstack.server.cli:admin",
    "demo": "clusterstack.demo:demo",
    "hyperv": "clusterstack.hypervisor.hyperv.check:hyperv",
}

_HELP: dict[str, str] = {
    "sim": "Run or drive the failover-cluster simulator.",
    "serve": "Run the management server (CloudStack API and console).",
    "db": "Database schema management.",
    "admin": "Administrative tasks (API keys).",
    "demo": "Simulator + management server with the seed's cloud set up.",
    "hyperv": "Check that a real Hyper-V failover cluster can be managed (WinRM).",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in _SUBCOMMANDS if self._available(name))

    @staticmethod
    def _available(name: str) -> bool:
        module = _SUBCOMMANDS[name].split(":")[0]
        return importlib.util.find_spec(module) is not None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _SUBCOMMANDS.get(cmd_name)
        if target is None or not self._available(cmd_name):
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="clusterstack")
def main() -> None:
    """clusterstack: highly available VMs on Hyper-V failover clusters, behind the CloudStack API."""


if __name__ == "__main__":
    main()
