#!/usr/bin/env python3
"""Checks that no include runs from a lower stage of the compiler to a higher
one (docs/architecture.md, "Who may include what").

Every file under lib/ and include/mpc/ belongs to one component (its folder,
two levels deep under Conversion/, Codegen/ and Target/). A file may include
its own component's headers and those of components on a lower floor; never
a sibling's on the same floor (Precision does not include Train) nor anything
above. The plain C++ components (Support, Runtime, Trainer) include no LLVM or
MLIR header at all: compiled trainers link them without either.

Usage: check_layering.py [REPO_ROOT]; prints one line per violation and exits
1 if there is any.
"""
import pathlib
import re
import sys

# component -> floor. Components on one floor are siblings.
FLOORS = {
    "Support": 0, "Runtime": 0,
    "Trainer": 1, "Dialect": 1, "Pass": 1,
    "Import": 2, "Inference": 2, "Precision": 2, "Train": 2,
    "Conversion/MpcToLinalg": 3,
    "Codegen/Common": 4,
    "Codegen/CPU": 5, "Codegen/CUDA": 5,
    "Target/CPU": 6, "Target/CUDA": 6,
    "InitAll": 7,
}
PLAIN_CXX = {"Support", "Runtime", "Trainer"}
NESTED = ("Conversion", "Codegen", "Target")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def component_of(parts):
    """The component of a path given relative to lib/ or include/mpc/."""
    if not parts:
        return None
    if parts[0] in ("InitAll.h", "InitAll.cpp"):
        return "InitAll"
    if parts[0] in NESTED and len(parts) > 2:
        return f"{parts[0]}/{parts[1]}"
    return parts[0] if len(parts) > 1 else None


def included_component(include, source_component):
    """The component an include names, or None for a system/third-party one."""
    if include.startswith("mpc/"):
        return component_of(include[len("mpc/"):].split("/"))
    if "/" not in include or include.startswith(".."):
        return source_component  # a private header beside the file
    return None


def check(root):
    problems = []
    sources = [(p, p.relative_to(root / "lib").parts) for p in (root / "lib").rglob("*")
               if p.suffix in (".cpp", ".h")]
    sources += [(p, p.relative_to(root / "include" / "mpc").parts)
                for p in (root / "include" / "mpc").rglob("*") if p.suffix in (".h", ".td")]
    for path, parts in sorted(sources):
        component = component_of(parts)
        if component not in FLOORS:
            problems.append(f"{path.relative_to(root)}: in no known component "
                            f"(add its folder to FLOORS in {pathlib.Path(__file__).name} "
                            f"and to docs/architecture.md)")
            continue
        for include in INCLUDE.findall(path.read_text(errors="replace")):
            if component in PLAIN_CXX and include.split("/")[0] in ("mlir", "llvm"):
                problems.append(f"{path.relative_to(root)}: includes '{include}', but {component} "
                                f"is plain C++ (no LLVM or MLIR)")
                continue
            target = included_component(include, component)
            if target is None or target == component:
                continue
            if target not in FLOORS:
                problems.append(f"{path.relative_to(root)}: includes '{include}' of an unknown "
                                f"component '{target}'")
            elif FLOORS[target] >= FLOORS[component]:
                relation = "a sibling" if FLOORS[target] == FLOORS[component] else "a higher stage"
                problems.append(f"{path.relative_to(root)}: {component} includes '{include}' of "
                                f"{target}, {relation}")
    return problems


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parents[1])
    problems = check(root.resolve())
    for line in problems:
        print(line)
    if not problems:
        print("layering: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
