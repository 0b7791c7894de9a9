#!/usr/bin/env python3
"""An MCP client for the tests of `ecs-audit mcp`: the real `mcp` package (stdio_client and
ClientSession) drives a server the way an assistant's client does.

Reads a plan on stdin, {"command", "args", "env", "calls": [{"tool", "arguments"}]}, starts
the server with exactly that environment (the client adds only PATH, HOME and the like),
runs initialize, tools/list, each call in order, then tools/list again (the server still
answers after a failing call), and prints one JSON document on stdout:
{"initialize": <InitializeResult>, "tools": [<Tool>], "calls": [<CallToolResult> or
{"protocolError": message}], "toolsAfter": [names]}. Every MCP object is the wire form
(camelCase), as the server sent it.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def wire(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def drive(plan):
    server = StdioServerParameters(command=plan["command"], args=plan.get("args", []), env=plan.get("env", {}))
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            initialized = await session.initialize()
            tools = await session.list_tools()
            calls = []
            for call in plan.get("calls", []):
                try:
                    result = await session.call_tool(call["tool"], call.get("arguments", {}))
                    calls.append(wire(result))
                except Exception as error:  # a protocol error: the test reports it as such
                    calls.append({"protocolError": f"{type(error).__name__}: {error}"})
            after = await session.list_tools()
            return {
                "initialize": wire(initialized),
                "tools": [wire(tool) for tool in tools.tools],
                "calls": calls,
                "toolsAfter": [tool.name for tool in after.tools],
            }


def main():
    plan = json.load(sys.stdin)
    json.dump(asyncio.run(drive(plan)), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
