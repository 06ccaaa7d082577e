"""continuum's modules import each other without a cycle (function-level imports included): each idea
has one home and the homes form a ladder (electrolyte -> closed forms -> meshes -> solver -> double layer)."""
import ast
import pathlib

PKG = pathlib.Path(__file__).resolve().parents[1] / "continuum"


def _imports(path: pathlib.Path) -> set[str]:
    """The continuum modules that ``path`` imports anywhere in its body (top level or inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
            elif node.level == 0 and node.module and node.module.startswith("continuum."):
                names = [node.module.split(".")[1]]
            else:
                continue
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("continuum.")]
        else:
            continue
        out |= {n.split(".")[0] for n in names if (PKG / f"{n.split('.')[0]}.py").exists()}
    return out


def test_no_import_cycle_in_continuum():
    graph = {p.stem: _imports(p) - {p.stem} for p in PKG.glob("*.py") if p.stem != "__init__"}
    assert graph["pnp"] and graph["gouy_chapman"], graph     # the scan sees the imports it must see
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []
