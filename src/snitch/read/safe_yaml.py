"""YAML reading that never executes anything and cannot be blown up by aliases or nesting.

Every YAML file snitch and snitch-pipeline read goes through `load_documents`."""

from __future__ import annotations

import json

import yaml

from snitch.read import cache, files

# Aliases share nodes, so parsing a "billion laughs" document is cheap but walking it is not:
# refuse documents whose aliases would expand past this many nodes.
MAX_EXPANDED_NODES = 200_000
# libyaml composes nested collections by recursing in C: some 60,000 levels crash the process,
# so deeper documents than this are refused before composing.
MAX_DEPTH = files.MAX_DEPTH
# A text at least this long is looked up in snitch's cache before it is parsed (a lookup costs
# about what parsing 2 KB does).
CACHED_FROM_CHARS = 2048
# Every collection opens at one of these characters ([ { or the block indicators - ? :), so
# their count bounds the depth and spares the exact count for nearly every real file.
_OPENERS = "[{-?:"


class YamlProblem(Exception):
    """The text is not YAML snitch can safely use; the message says why and where."""


# libyaml's parser when PyYAML was built with it: several times faster than the pure-Python one.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _BoundedLoader(_Base):
    """The safe loader, plus GitLab's `!reference` tag."""


def _expanded_size(node: yaml.Node, sizes: dict) -> int:
    """How many nodes `node` stands for once every alias is expanded (memoised per shared node)."""
    if id(node) not in sizes:
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [item for pair in node.value for item in pair]
        else:
            children = []
        sizes[id(node)] = 1 + sum(_expanded_size(child, sizes) for child in children)
    return sizes[id(node)]


def _reference(loader: yaml.SafeLoader, node: yaml.Node):
    return {"!reference": loader.construct_sequence(node)}


_BoundedLoader.add_constructor("!reference", _reference)


def _checked(name: str):
    """The safe loader's constructor of !!name, given only a value that looks like one: PyYAML's
    own constructors assume the resolver's pattern matched (`!!bool abc` is a KeyError in them,
    `!!timestamp abc` an AttributeError), which holds for plain scalars, not for explicit tags."""
    tag = f"tag:yaml.org,2002:{name}"
    patterns = [
        pattern for resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.values()
        for resolved, pattern in resolvers if resolved == tag
    ]
    construct = yaml.SafeLoader.yaml_constructors[tag]

    def constructor(loader: yaml.SafeLoader, node: yaml.Node):
        value = loader.construct_scalar(node)  # a collection here is the loader's own ConstructorError
        if not any(pattern.fullmatch(value) for pattern in patterns):
            raise yaml.constructor.ConstructorError(None, None, f"{value[:40]!r} is not a valid !!{name}", node.start_mark)
        return construct(loader, node)

    return constructor


# !!float's constructor reads "1" as 1.0 and says ValueError to the rest: left as it is.
for _name in ("bool", "int", "timestamp"):
    _BoundedLoader.add_constructor(f"tag:yaml.org,2002:{_name}", _checked(_name))


_OPENS = {yaml.SequenceStartEvent, yaml.MappingStartEvent}
_CLOSES = {yaml.SequenceEndEvent, yaml.MappingEndEvent}
_NODES = {yaml.ScalarEvent, *_OPENS}


def _scan(text: str) -> list[int] | None:
    """Refuse `text` when its collections nest deeper than MAX_DEPTH, counted on the parser's
    events (libyaml's parser keeps its own stack on the heap; only the composer recurses).

    The same pass counts each document's nodes: with no alias in the text, that is the size the
    alias-bomb bound measures, so the composed documents need no second walk. None when the
    quick bound spares the pass, or when there are aliases to expand."""
    if sum(text.count(character) for character in _OPENERS) <= MAX_DEPTH:
        return None
    parser = _Base(text)
    try:
        depth, nodes, counts, aliased = 0, 0, [], False
        while (event := parser.get_event()) is not None:  # no generator, no isinstance: the cheapest loop
            kind = type(event)
            if kind in _NODES:
                nodes += 1
                if kind in _OPENS:
                    depth += 1
                    if depth > MAX_DEPTH:
                        line = event.start_mark.line + 1 if event.start_mark else "?"
                        raise YamlProblem(
                            f"nests collections more than {MAX_DEPTH} levels deep (line {line}), "
                            "deeper than any configuration needs, so it was not read"
                        )
            elif kind in _CLOSES:
                depth -= 1
            elif kind is yaml.AliasEvent:
                aliased = True
            elif kind is yaml.DocumentEndEvent:
                counts.append(nodes)
                nodes = 0
        return None if aliased else counts
    finally:
        parser.dispose()


def load_documents(text: str) -> list:
    """Every document in `text`, parsed with the safe loader."""
    loader = None
    try:
        sizes = _scan(text)
        loader = _BoundedLoader(text)
        documents = []
        while loader.check_node():
            node = loader.get_node()  # compose first, so an alias bomb is measured before it is built
            size = sizes[len(documents)] if sizes is not None else _expanded_size(node, {})
            if size > MAX_EXPANDED_NODES:
                raise YamlProblem(
                    f"its aliases expand to more than {MAX_EXPANDED_NODES} nodes: "
                    "this looks like an alias bomb (\"billion laughs\"), so it was not expanded"
                )
            documents.append(loader.construct_document(node))
        return documents
    except yaml.constructor.ConstructorError as error:
        where = f" (line {error.problem_mark.line + 1})" if error.problem_mark else ""
        raise YamlProblem(
            f"uses a tag snitch will not construct{where}: {error.problem}; "
            "tags such as !!python/object are never executed"
        ) from None
    except yaml.YAMLError as error:
        raise YamlProblem(f"is not valid YAML: {' '.join(str(error).split())}") from None
    except (ValueError, OverflowError) as error:  # e.g. a 5,000-digit integer or the date 2026-13-45
        raise YamlProblem(f"holds a value that cannot be read ({str(error).split(';')[0]})") from None
    except RecursionError:
        raise YamlProblem("nests too deeply to be read") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_documents_cached(text: str) -> list:
    """load_documents(text), from snitch's cache (snitch.read.cache) when this text was read before.

    Parsing an 11 KB openapi.yaml costs about 4 ms, more than any check, and it rarely changes
    between runs (nor between the projects of a fleet run every night). The documents are stored
    as JSON, and only when JSON gives them back exactly: with a date, a set, a key that is not a
    string or a value JSON cannot hold, every run parses the text. A text that is not valid
    YAML is not stored either, so its problem is reported the same way every time."""
    if len(text) < CACHED_FROM_CHARS:
        return load_documents(text)
    entry_key = cache.key(cache.code_version(__file__, yaml.__version__, _Base.__name__), text.encode())
    stored = cache.read("yaml", entry_key)
    if stored is not None:
        try:
            documents = json.loads(stored)
        except (ValueError, RecursionError):
            documents = None  # not an entry snitch wrote: parse again
        if isinstance(documents, list):
            return documents
    documents = load_documents(text)
    exact = _exact_json(documents)
    if exact is not None:
        cache.store("yaml", entry_key, exact)
    return documents


def _exact_json(documents: list) -> str | None:
    """The documents as JSON text when json.loads gives back an equal value, else None."""
    try:
        encoded = json.dumps(documents, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):  # a date or set; NaN; an alias cycle
        return None
    return encoded if json.loads(encoded) == documents else None  # int keys and tuples differ
