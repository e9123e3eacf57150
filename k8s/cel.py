"""The CEL rules of the custom resources' CRDs (`x-kubernetes-validations`),
evaluated offline as the API server evaluates them when an object is created:
after its schema's defaults are filled in, each rule with `self` bound to the
value it sits on. Transition rules (those that read `oldSelf`) apply to updates
only and are left to the server; a rule that cannot be evaluated here is a
problem too, never skipped in silence.
"""

import copy

import celpy
from celpy import celtypes

ENVIRONMENT = celpy.Environment()
# What Kubernetes' CEL library adds to the standard one that the rules use.
FUNCTIONS = {"split": lambda text, separator: celtypes.ListType(
    [celtypes.StringType(part) for part in str(text).split(str(separator))])}


def defaulted(schema, value):
    """`value` with the schema's defaults filled in where it leaves them out."""
    if isinstance(value, dict):
        out = dict(value)
        properties = schema.get("properties", {})
        for key, sub in properties.items():
            if key not in out and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
            if key in out:
                out[key] = defaulted(sub, out[key])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in out:
                if key not in properties:
                    out[key] = defaulted(extra, out[key])
        return out
    if isinstance(value, list) and "items" in schema:
        return [defaulted(schema["items"], item) for item in value]
    return value


class Rules:
    """Every rule's program, compiled once."""

    def __init__(self):
        self.programs = {}

    def program(self, rule):
        if rule not in self.programs:
            self.programs[rule] = ENVIRONMENT.program(ENVIRONMENT.compile(rule), functions=FUNCTIONS)
        return self.programs[rule]

    def errors(self, schema, value, where, path=""):
        """Each rule of `schema` and of what it holds that `value` breaks, as `where: path: message`."""
        for rule in schema.get("x-kubernetes-validations", []):
            text = rule["rule"]
            if "oldSelf" in text:
                continue
            try:
                program = self.program(text)
            except Exception as error:  # a rule this evaluator cannot read is reported, not passed
                yield f"{where}: {path or '(root)'}: the rule `{text}` cannot be evaluated offline: {error}"
                continue
            try:
                held = program.evaluate({"self": celpy.json_to_cel(value)})
            except Exception as error:  # as on the server, a rule that errs (an absent field) fails
                held = error
            if held != celtypes.BoolType(True):
                why = "" if held == celtypes.BoolType(False) else f"; it erred: {held}"
                yield f"{where}: {path or '(root)'}: {rule.get('message') or 'breaks ' + text} (CEL: {text}{why})"
        if isinstance(value, dict):
            properties = schema.get("properties", {})
            for key, sub in properties.items():
                if key in value:
                    yield from self.errors(sub, value[key], where, f"{path}.{key}" if path else key)
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                for key, item in value.items():
                    if key not in properties:
                        yield from self.errors(extra, item, where, f"{path}.{key}" if path else key)
        elif isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                yield from self.errors(schema["items"], item, where, f"{path}[{i}]")


def cel_errors(objects, schema_of, name_of):
    """The CEL rules every custom resource among `objects` breaks; `schema_of`
    gives an object's CRD schema (None for a built-in kind)."""
    rules = Rules()
    for obj in objects:
        schema = schema_of(obj)
        if schema is not None:
            yield from rules.errors(schema, defaulted(schema, obj), name_of(obj))
