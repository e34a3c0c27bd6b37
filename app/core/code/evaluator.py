"""The bounded evaluator: the paste's names, statements and expressions, followed, never executed."""
from __future__ import annotations

import ast
import math
import re

from ..frameworks import zoo
from ..trace import MERGES, supported_types
from .values import (
    _BUILTINS,
    _KERAS_MERGE_FUNCS,
    _LIBRARIES,
    _MODULE_LISTS,
    _NO_SHAPE_ATTRS,
    _NOT_A_HELPER,
    _POSITIONAL,
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_LAYERS,
    MAX_LIST,
    MAX_NUMBER,
    MAX_STEPS,
    MODULES,
    Cls,
    CodeError,
    Ext,
    Func,
    KModel,
    Method,
    Mod,
    NeedShape,
    Obj,
    Partial,
    Sample,
    Seq,
    ShapeOf,
    SizeRef,
    Super,
    Ten,
    Unknown,
    _Break,
    _container,
    _Continue,
    _line,
    _module_list,
    _Return,
    _subclass,
    _targets,
    _text,
    _type_of,
    _ZooRefusal,
)


class Evaluator:
    """The bounded interpreter: names, statements, expressions, attributes, calls, builtins and methods."""

    # ------------------------------------------------------------------ bookkeeping
    def tick(self, node=None) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise CodeError(f"the code takes more than {MAX_STEPS:,} steps to follow; Convscope follows smaller "
                            "programs (paste the model without training loops)")

    def ask(self, u: Unknown) -> None:
        for name in u.names:
            if name not in self.unresolved:
                self.unresolved.append(name)

    def number(self, v, node, where: str = ""):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and (
                abs(v) > MAX_NUMBER or (isinstance(v, float) and not math.isfinite(v))):
            label = f"{where} = " if where else ""
            raise CodeError(f"line {_line(node)}: {label}`{_text(node)}` is {'too large' if abs(v) > 1e30 else v}, "
                            "larger than Convscope reads (|x| ≤ 2^31)")
        return v

    def unknown_error(self, u: Unknown, node, what: str) -> CodeError:
        where = f" (line {u.line})" if u.line else ""
        if u.kind == "name":
            return CodeError(f"line {_line(node)}: {what} needs {', '.join(u.names)}, which the code does not define: "
                             f"give {'it' if len(u.names) == 1 else 'them'} in variables")
        return CodeError(f"line {_line(node)}: {what} depends on `{u.text}`{where}, which Convscope cannot follow "
                         "without running the code")

    # ------------------------------------------------------------------ names
    def lookup(self, name: str, scope: dict | None, node):
        if scope is not None and name in scope:
            return scope[name]
        if name in self.globals:
            return self.globals[name]
        if name in self.variables:
            return self.variables[name]
        if name in self.bad:
            raise CodeError(self.bad[name])
        if name in _BUILTINS:
            return Method(None, name)
        if name in _LIBRARIES:
            return Ext(_LIBRARIES[name])
        if name[:1].isupper() and (name in _POSITIONAL[self.fw] or name in ("Sequential", "Model", "ModuleList",
                                                                              "ModuleDict", "Input", "Functional")
                                   or self.known_layer(name)):
            return Ext(("torch.nn." if self.fw == "torch" else "keras.layers.") + name)
        if name in _KERAS_MERGE_FUNCS and self.fw == "keras":
            return Ext("keras.layers." + name)
        return Unknown("name", name, (name,), _line(node))

    def known_layer(self, name: str) -> bool:
        try:
            return name in supported_types(self.fw) or name in MERGES
        except Exception:  # noqa: BLE001 -- a name is a layer or not; never a failure
            return False

    # ------------------------------------------------------------------ statements
    def run_body(self, body: list[ast.stmt], scope: dict | None) -> None:
        for stmt in body:
            self.stmt(stmt, scope)

    def top(self) -> None:
        """The paste's own statements, in order; one that cannot be followed is skipped and the names it
        assigns remember why (said only if the model uses them)."""
        for stmt in self.tree.body:
            if isinstance(stmt, ast.For) and self.training_loop(stmt):
                continue
            try:
                self.stmt(stmt, None)
            except (CodeError, NeedShape, _Return, _Break, _Continue, RecursionError) as e:
                if isinstance(e, RecursionError):
                    raise CodeError("the code nests too deeply to follow") from None
                if self.steps > MAX_STEPS or len(self.nodes) > MAX_LAYERS:
                    raise
                message = str(e) if isinstance(e, CodeError) else f"line {_line(stmt)}: needs the input shape"
                for target in _targets(stmt):
                    self.bad[target] = message
                    self.globals.pop(target, None)

    def training_loop(self, stmt: ast.For) -> bool:
        """A top-level loop over data or epochs (`for x, y in loader`, `for epoch in range(100)`) builds no model:
        skipped, so it neither spends the step budget nor asks for the loader."""
        try:
            items = self.ev(stmt.iter, None)
        except (CodeError, NeedShape):
            return True
        return isinstance(items, Unknown) or (isinstance(items, (range, list, tuple)) and len(items) > 64)

    def stmt(self, stmt: ast.stmt, scope: dict | None) -> None:
        """One statement, followed; each kind has its method (the table _STATEMENTS, after the class)."""
        self.tick()
        handler = _STATEMENTS.get(type(stmt))
        if handler is None:
            raise CodeError(f"line {_line(stmt)}: `{_text(stmt, 40)}` is not followed")
        handler(self, stmt, scope)

    def st_import(self, stmt, scope) -> None:
        for alias in stmt.names:
            if isinstance(stmt, ast.Import):
                if alias.asname:
                    self.assign_name(alias.asname, Ext(alias.name), scope)
                else:
                    root = alias.name.split(".")[0]
                    self.assign_name(root, Ext(root), scope)
            elif alias.name != "*" and not self.pasted(alias.asname or alias.name, stmt, scope):
                self.assign_name(alias.asname or alias.name, Ext(f"{stmt.module or ''}.{alias.name}"), scope)

    def st_def(self, stmt: ast.FunctionDef, scope) -> None:
        self.assign_name(stmt.name, Func(stmt, scope), scope)

    def st_assign(self, stmt: ast.Assign, scope) -> None:
        value = self.ev(stmt.value, scope)
        for target in stmt.targets:
            self.assign(target, value, scope)

    def st_annotated(self, stmt: ast.AnnAssign, scope) -> None:
        if stmt.value is not None:
            self.assign(stmt.target, self.ev(stmt.value, scope), scope)

    def st_augmented(self, stmt: ast.AugAssign, scope) -> None:
        value = self.binop(stmt.op, self.ev(stmt.target, scope), self.ev(stmt.value, scope), stmt)
        self.assign(stmt.target, value, scope)

    def st_expression(self, stmt: ast.Expr, scope) -> None:
        if isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            return  # a docstring
        value = self.ev(stmt.value, scope)
        if scope is None and isinstance(value, (*MODULES, KModel)):  # a bare `nn.Sequential(...)`
            call = isinstance(stmt.value, ast.Call)
            self.assigned.append((f"{_text(stmt.value.func, 30)}(…)" if call else _text(stmt.value, 30), value))

    def st_return(self, stmt: ast.Return, scope) -> None:
        raise _Return(None if stmt.value is None else self.ev(stmt.value, scope))

    def st_if(self, stmt: ast.If, scope) -> None:
        self.run_body(stmt.body if self.truth(self.ev(stmt.test, scope), stmt.test) else stmt.orelse, scope)

    def st_for(self, stmt: ast.For, scope) -> None:
        items = self.iterate(self.ev(stmt.iter, scope), stmt.iter)
        for item in items:
            self.assign(stmt.target, item, scope)
            try:
                self.run_body(stmt.body, scope)
            except _Break:
                break
            except _Continue:
                continue
        else:
            self.run_body(stmt.orelse, scope)

    def st_with(self, stmt, scope) -> None:
        self.run_body(stmt.body, scope)

    def st_try(self, stmt: ast.Try, scope) -> None:
        self.run_body(stmt.body, scope)
        self.run_body(stmt.orelse, scope)
        self.run_body(stmt.finalbody, scope)

    def st_break(self, stmt, scope) -> None:
        raise _Break()

    def st_continue(self, stmt, scope) -> None:
        raise _Continue()

    def st_raise(self, stmt: ast.Raise, scope) -> None:
        exc = stmt.exc
        if isinstance(exc, ast.Call) and exc.args and isinstance(exc.args[0], ast.Constant) and \
                exc.args[0].value in zoo.REFUSALS:  # a zoo architecture's own check
            raise _ZooRefusal(exc.args[0].value)
        raise CodeError(f"line {stmt.lineno}: the code raises an error here (`{_text(stmt)}`)")

    def st_while(self, stmt, scope) -> None:
        raise CodeError(f"line {stmt.lineno}: while loops are not followed; write a for loop over a range")

    def st_nothing(self, stmt, scope) -> None:  # pass, assert, global, nonlocal, del: no shape
        return None

    def pasted(self, name: str, stmt: ast.ImportFrom, scope) -> bool:
        """`from pkg.tcn import TemporalConvNet` after the paste defined TemporalConvNet: the pasted one wins (the
        import's module is not read), with a note."""
        if scope is not None or not isinstance(self.globals.get(name), (Cls, Func)):
            return False
        self.notes.append(f"line {stmt.lineno}: `from {stmt.module} import {name}` would replace the pasted {name}; "
                          f"Convscope cannot read {stmt.module}, so it traces the pasted one")
        return True

    def define_class(self, stmt: ast.ClassDef, scope) -> None:
        bases = [self.ev(b, scope) for b in stmt.bases]
        cls = Cls(stmt, scope, {}, bases)
        self.assign_name(stmt.name, cls, scope)
        for item in stmt.body:
            if isinstance(item, ast.FunctionDef):
                cls.attrs[item.name] = Func(item, scope)
            elif isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
                try:
                    cls.attrs[item.targets[0].id] = self.ev(item.value, scope)
                except CodeError:
                    pass

    def assign_name(self, name: str, value, scope) -> None:
        if scope is not None:
            scope[name] = value
        elif name not in self.variables:  # what the user gives wins over the code
            if isinstance(value, Unknown) and value.kind == "expr":  # from data: a value to ask for by name
                self.data_names[name] = value.text
                value = Unknown("name", name, (name,), value.line)
            self.globals[name] = value
            self.bad.pop(name, None)
            self.assigned.append((name, value))

    def assign(self, target: ast.AST, value, scope) -> None:
        if isinstance(target, ast.Name):
            self.assign_name(target.id, value, scope)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = self.unpack(value, len(target.elts), target)
            for t, v in zip(target.elts, items):
                self.assign(t, v, scope)
        elif isinstance(target, ast.Attribute):
            if target.attr in _NO_SHAPE_ATTRS:  # base.trainable = False, param.requires_grad = False: no shape
                return
            obj = self.ev(target.value, scope)
            if isinstance(obj, Obj):
                obj.attrs[target.attr] = value
                if isinstance(value, Seq) and value.name is None:
                    value.name = target.attr
        elif isinstance(target, ast.Subscript):
            obj = self.ev(target.value, scope)
            key = self.ev(target.slice, scope)
            in_list = isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj)
            if isinstance(obj, dict) and isinstance(key, (str, int)) or in_list:
                obj[key] = value
            elif isinstance(obj, Seq) and isinstance(key, (str, int)):
                self.set_child(obj, key, value)
        elif isinstance(target, ast.Starred):
            raise CodeError(f"line {_line(target)}: starred assignment is not followed")

    @staticmethod
    def set_child(seq: Seq, key, value) -> None:
        """seq[key] = module: replaces the child at that index or name (model.classifier[6] = nn.Linear(...)),
        else adds it under that name."""
        names = [k for k, _ in seq.children]
        if isinstance(key, int) and -len(names) <= key < len(names):
            key = names[key]
        if str(key) in names:
            seq.children[names.index(str(key))] = (str(key), value)
        else:
            seq.children.append((str(key), value))

    def unpack(self, value, n: int, node) -> list:
        if isinstance(value, (list, tuple)):
            if len(value) != n:
                raise CodeError(f"line {_line(node)}: {len(value)} values to unpack into {n} names")
            return list(value)
        if isinstance(value, Seq):
            return [c for _, c in value.children][:n]
        if isinstance(value, ShapeOf):
            self.need_shape(f"line {_line(node)}: `{value.text}`")
        if isinstance(value, Unknown):
            return [Unknown(value.kind, f"{value.text}[{i}]", value.names, value.line) for i in range(n)]
        raise CodeError(f"line {_line(node)}: cannot unpack `{_text(node)}` into {n} names")

    def iterate(self, value, node) -> list:
        if isinstance(value, (list, tuple, str)):
            return list(value)
        if isinstance(value, dict):
            return list(value)
        if isinstance(value, range):
            if len(value) > MAX_LIST:
                raise CodeError(f"line {_line(node)}: a loop of {len(value):,} steps; Convscope follows at most "
                                f"{MAX_LIST:,}")
            return list(value)
        if isinstance(value, Seq):
            return [c for _, c in value.children]
        if isinstance(value, Unknown):
            if not self.strict:
                return []
            if value.kind == "name":
                self.ask(value)
                return []
            raise self.unknown_error(value, node, "this loop")
        if isinstance(value, Ten):
            raise CodeError(f"line {_line(node)}: a loop over a tensor's values is not followed")
        raise CodeError(f"line {_line(node)}: cannot loop over `{_text(node)}`")

    def truth(self, value, node) -> bool:
        if isinstance(value, Unknown):
            if not self.strict and not self.in_layer_arg:
                return False
            if value.kind == "name":
                self.ask(value)
                return False
            raise self.unknown_error(value, node, f"`if {_text(node)}`")
        if isinstance(value, (SizeRef, ShapeOf)):
            self.need_shape(f"line {_line(node)}: `{_text(node)}`")
        if isinstance(value, Ten):
            raise CodeError(f"line {_line(node)}: `if {_text(node)}` tests a tensor's values, which only running the "
                            "model gives")
        if isinstance(value, (Mod, Seq, Obj, Ext, Func, Cls, KModel, Method)):
            return True
        return bool(value)
    # ------------------------------------------------------------------ expressions
    def ev(self, node: ast.AST, scope: dict | None):
        """An expression's value; each kind of node has its method (the table _EXPRESSIONS, after the class)."""
        self.tick()
        handler = _EXPRESSIONS.get(type(node))
        if handler is None:
            return Unknown("expr", _text(node), (), _line(node))
        return handler(self, node, scope)

    def ev_constant(self, node: ast.Constant, scope):
        v = node.value
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return self.number(v, node)
        if v is None or isinstance(v, (bool, str)):
            return v
        return Unknown("expr", _text(node), (), _line(node))

    def ev_name(self, node: ast.Name, scope):
        return self.lookup(node.id, scope, node)

    def ev_items(self, node, scope):
        if len(node.elts) > MAX_ITEMS:
            raise CodeError(f"line {node.lineno}: `{_text(node, 30)}` has {len(node.elts)} items; at most {MAX_ITEMS}")
        items = []
        for e in node.elts:
            if isinstance(e, ast.Starred):
                items += self.iterate(self.ev(e.value, scope), e)
            else:
                items.append(self.ev(e, scope))
        return tuple(items) if isinstance(node, ast.Tuple) else items

    def ev_dict(self, node: ast.Dict, scope):
        if len(node.keys) > MAX_ITEMS:
            raise CodeError(f"line {node.lineno}: a dict of {len(node.keys)} items; at most {MAX_ITEMS}")
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                value = self.ev(v, scope)
                if isinstance(value, dict):
                    out.update(value)
                continue
            key = self.ev(k, scope)
            if isinstance(key, (str, int, float, bool, tuple)) or key is None:
                out[key] = self.ev(v, scope)
        return out

    def ev_unary(self, node: ast.UnaryOp, scope):
        v = self.ev(node.operand, scope)
        if isinstance(node.op, ast.Not):
            return not self.truth(v, node.operand)
        if isinstance(v, Unknown):
            return v
        if isinstance(v, (SizeRef, ShapeOf)):
            self.need_shape(f"line {node.lineno}: `{_text(node)}`")
        if isinstance(v, Ten):
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise CodeError(f"line {node.lineno}: a sign goes before a number, not `{_text(node.operand, 40)}`")
        return -v if isinstance(node.op, ast.USub) else v if isinstance(node.op, ast.UAdd) else ~int(v)

    def ev_binop(self, node: ast.BinOp, scope):
        if isinstance(node.op, ast.Pow):  # a power tower is named whole, never computed
            try:
                return self.binop(node.op, self.ev(node.left, scope), self.ev(node.right, scope), node)
            except CodeError as e:
                if "2^31" not in str(e):
                    raise
                raise CodeError(f"line {node.lineno}: `{_text(node)}` is larger than Convscope reads (|x| ≤ 2^31)") \
                    from None
        return self.binop(node.op, self.ev(node.left, scope), self.ev(node.right, scope), node)

    def ev_boolop(self, node: ast.BoolOp, scope):
        value = None
        for operand in node.values:
            value = self.ev(operand, scope)
            t = self.truth(value, operand)
            if isinstance(node.op, ast.And) and not t or isinstance(node.op, ast.Or) and t:
                return value
        return value

    def ev_compare(self, node: ast.Compare, scope):
        left = self.ev(node.left, scope)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.ev(right_node, scope)
            if not self.compare(op, left, right, node):
                return False
            left = right
        return True

    def ev_ifexp(self, node: ast.IfExp, scope):
        return self.ev(node.body if self.truth(self.ev(node.test, scope), node.test) else node.orelse, scope)

    def ev_attribute(self, node: ast.Attribute, scope):
        return self.attribute(self.ev(node.value, scope), node.attr, node)

    def ev_subscript(self, node: ast.Subscript, scope):
        return self.subscript(self.ev(node.value, scope), node.slice, scope, node)

    def ev_slice(self, node: ast.Slice, scope):
        return slice(*(None if p is None else self.ev(p, scope) for p in (node.lower, node.upper, node.step)))

    def ev_fstring(self, node: ast.JoinedStr, scope):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue) and v.format_spec is None and v.conversion == -1:
                x = self.ev(v.value, scope)
                if not isinstance(x, (int, str)) or isinstance(x, bool):
                    return Unknown("expr", _text(node), (), node.lineno)
                parts.append(str(x))
            else:
                return Unknown("expr", _text(node), (), node.lineno)
        return "".join(parts)[:200]

    def ev_opaque(self, node, scope):  # a lambda's value is not followed (only its call, inline)
        return Unknown("expr", _text(node), (), node.lineno)

    def ev_starred(self, node: ast.Starred, scope):
        raise CodeError(f"line {node.lineno}: `{_text(node)}` is only followed inside a call or a list")

    def comprehension(self, node, scope) -> list:
        if len(node.generators) != 1:
            raise CodeError(f"line {node.lineno}: a comprehension with several `for`s is not followed")
        gen = node.generators[0]
        inner = dict(scope or {})
        out = []
        for item in self.iterate(self.ev(gen.iter, scope), gen.iter):
            self.assign(gen.target, item, inner)
            if all(self.truth(self.ev(c, inner), c) for c in gen.ifs):
                out.append(self.ev(node.elt, inner))
                if len(out) > MAX_LIST:
                    raise CodeError(f"line {node.lineno}: a list of more than {MAX_LIST:,} items")
        return out

    def compare(self, op, a, b, node) -> bool:
        for v in (a, b):
            if isinstance(v, (SizeRef, ShapeOf)):
                self.need_shape(f"line {_line(node)}: `{_text(node)}`")
            if isinstance(v, Unknown) and not isinstance(op, (ast.Is, ast.IsNot)):
                return self.truth(v, node)
            if isinstance(v, Ten) and not isinstance(op, (ast.Is, ast.IsNot)):
                raise CodeError(f"line {_line(node)}: `{_text(node)}` compares a tensor's values, which only running "
                                "the model gives")
        test = _COMPARISONS.get(type(op))
        try:
            if test is not None:
                return test(a, b)
        except TypeError:
            pass
        raise CodeError(f"line {_line(node)}: cannot compare `{_text(node)}`")

    def binop(self, op, a, b, node):
        if isinstance(a, Ten) or isinstance(b, Ten):
            return self.tensor_binop(op, a, b, node)
        for v in (a, b):
            if isinstance(v, (SizeRef, ShapeOf)):
                self.need_shape(f"line {_line(node)}: `{_text(node)}`")
        for v in (a, b):
            if isinstance(v, Unknown):
                return Unknown(v.kind, _text(node), tuple(dict.fromkeys(
                    [*(a.names if isinstance(a, Unknown) else ()), *(b.names if isinstance(b, Unknown) else ())])),
                    _line(node))
        num = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
        if num(a) and num(b):
            done = self.arithmetic(op, a, b, node)
            if done is not _NOT_A_HELPER:
                return done
        return self.sequence_op(op, a, b, node)

    def arithmetic(self, op, a, b, node):
        """Numbers: + - * / // % ** and bit operations, each bounded (|x| ≤ 2^31) before it is computed."""
        too_large = f"line {_line(node)}: `{_text(node)}` is larger than Convscope reads (|x| ≤ 2^31)"
        if isinstance(op, ast.Pow):
            if b < 0 or b > 64 or (abs(a) > 1 and b * math.log2(abs(a)) > 31):
                raise CodeError(too_large)
            return self.number(a ** b, node)
        if isinstance(op, (ast.Div, ast.FloorDiv, ast.Mod)) and b == 0:
            raise CodeError(f"line {_line(node)}: `{_text(node)}` divides by zero")
        ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.Div: lambda: a / b,
               ast.FloorDiv: lambda: a // b, ast.Mod: lambda: a % b}
        if type(op) in ops:
            if isinstance(op, ast.Mult) and abs(a) * abs(b) > MAX_NUMBER:
                raise CodeError(too_large)
            return self.number(ops[type(op)](), node)
        bits = (ast.BitAnd, ast.BitOr, ast.LShift, ast.RShift)
        if isinstance(op, bits) and isinstance(a, int) and isinstance(b, int):
            if isinstance(op, ast.LShift) and b > 31:
                raise CodeError(too_large)
            return self.number({ast.BitAnd: a & b, ast.BitOr: a | b}.get(type(op)) if not isinstance(
                op, (ast.LShift, ast.RShift)) else (a << b if isinstance(op, ast.LShift) else a >> b), node)
        return _NOT_A_HELPER

    def sequence_op(self, op, a, b, node):
        """Lists, tuples and strings: + and * (bounded by MAX_LIST), % formatting; containers joined by +."""
        seqs = (list, tuple)
        if isinstance(op, ast.Add) and isinstance(a, seqs) and isinstance(b, seqs):
            if len(a) + len(b) > MAX_LIST:
                raise CodeError(f"line {_line(node)}: a list of more than {MAX_LIST:,} items")
            return type(a)([*a, *b]) if type(a) is type(b) else self.type_error(node)
        count = lambda v: isinstance(v, int) and not isinstance(v, bool)
        if isinstance(op, ast.Mult) and (isinstance(a, (*seqs, str)) and count(b) or
                                         isinstance(b, (*seqs, str)) and count(a)):
            seq, n = (a, b) if isinstance(b, int) else (b, a)
            if len(seq) * max(n, 0) > MAX_LIST:
                raise CodeError(f"line {_line(node)}: `{_text(node)}` makes more than {MAX_LIST:,} items")
            return seq * n
        if isinstance(op, ast.Add) and isinstance(a, str) and isinstance(b, str):
            return (a + b)[:1000]
        if isinstance(op, ast.Mod) and isinstance(a, str):
            return self.percent(a, b, node)
        if isinstance(op, ast.Add) and isinstance(a, Seq) and isinstance(b, Seq):
            return Seq(a.kind, a.children + b.children, a.line)
        return self.type_error(node)

    def type_error(self, node):
        raise CodeError(f"line {_line(node)}: cannot compute `{_text(node)}`: arithmetic works on numbers, and + on "
                        "tuples and lists")

    def percent(self, fmt: str, args, node) -> str:
        args = list(args) if isinstance(args, tuple) else [args]
        out, i = [], 0
        for piece in re.split(r"(%[ds%]|%\.\df)", fmt):
            if piece in ("%d", "%s") or piece.endswith("f") and piece.startswith("%"):  # %.2f: keras' model names
                kinds = (int, float) if piece.endswith("f") else (int, str)
                if i >= len(args) or not isinstance(args[i], kinds) or isinstance(args[i], bool):
                    return Unknown("expr", _text(node), (), _line(node))
                out.append(piece % args[i] if piece.endswith("f") else str(args[i]))
                i += 1
            else:
                out.append("%" if piece == "%%" else piece)
        return "".join(out)[:200]
    # ------------------------------------------------------------------ attributes and items
    def attribute(self, obj, attr: str, node):
        """``obj.attr`` on what the paste holds; each kind of value has its method (_ATTRIBUTES, after the class)."""
        handler = next((h for kind, h in _ATTRIBUTES if isinstance(obj, kind)), None)
        done = _NOT_A_HELPER if handler is None else handler(self, obj, attr, node)
        if done is not _NOT_A_HELPER:
            return done
        if isinstance(obj, (list, dict, str, Seq, KModel, Super)):
            return Method(obj, attr)
        if isinstance(obj, Method) and obj.target is None and obj.name == "OrderedDict":
            return Method(None, "OrderedDict")
        return Unknown("expr", _text(node), (), _line(node))

    def attr_ext(self, obj: Ext, attr, node):
        return Ext(f"{obj.path}.{attr}")

    def attr_unknown(self, obj: Unknown, attr, node):
        if obj.kind == "name":
            dotted = f"{obj.text}.{attr}"
            if dotted in self.variables:
                return self.variables[dotted]
            return Unknown("name", dotted, (dotted,), obj.line)
        return Unknown("expr", _text(node), obj.names, obj.line)

    def attr_obj(self, obj: Obj, attr, node):
        if attr in obj.attrs:
            return obj.attrs[attr]
        found = obj.cls.lookup(attr)
        if isinstance(found, Func):
            static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in found.node.decorator_list)
            return Func(found.node, found.scope, None if static else obj)  # @staticmethod: called without self
        if found is not None:
            return found
        if attr == "training":
            return False  # traced as model.eval()
        return Method(obj, attr)

    def attr_cls(self, obj: Cls, attr, node):
        found = obj.lookup(attr)
        return found if found is not None else Unknown("expr", _text(node), (), _line(node))

    def attr_ten(self, obj: Ten, attr, node):
        if attr == "shape":
            return self.shape_of(obj, node)
        if attr in ("T", "mT"):
            return obj
        if attr == "is_cuda":  # traced as on a CPU: a GPU count used only to choose data-parallel is not asked
            return False
        return Method(obj, attr)

    def attr_mod(self, obj: Mod, attr, node):
        if attr in obj.spec:
            return obj.spec[attr]
        positional = _POSITIONAL[self.fw].get(obj.spec["type"], ())
        if attr in positional or attr == "weight":
            return Unknown("expr", _text(node), (), _line(node))
        return Method(obj, attr)

    def attr_dict(self, obj: dict, attr, node):
        return obj[attr] if attr in obj and not hasattr(dict, attr) else _NOT_A_HELPER  # opt given as {"nz": 100}

    def attr_partial(self, obj: Partial, attr, node):
        if attr in ("func", "args", "keywords"):
            return {"func": obj.func, "args": tuple(obj.args), "keywords": obj.kwargs}[attr]
        return _NOT_A_HELPER

    def attr_kmodel(self, obj: KModel, attr, node):
        if attr in ("input", "output", "inputs", "outputs"):
            # base.output: a backbone's last tensor, to build on (Model(base.input, x) lists its layers one by one)
            many = obj.inputs if attr.startswith("input") else obj.outputs
            return list(many) if attr.endswith("s") or len(many) > 1 else many[0]
        if attr in ("input_shape", "output_shape") and len(obj.outputs) == 1:
            ten = obj.inputs[0] if attr == "input_shape" else obj.outputs[0]  # Flatten(input_shape=base.output_shape…)
            if ten.shape is None:
                raise NeedShape(f"line {_line(node)}: `{_text(node)}`")
            return (None, *ten.shape[1:])
        return _NOT_A_HELPER

    def shape_of(self, ten: Ten, node):
        if ten.shape is None:
            return ShapeOf(ten, _text(node))
        if ten.framework == "keras" and not self.batch_known:
            return (None, *ten.shape[1:])
        return tuple(ten.shape)

    def subscript(self, obj, slice_node, scope, node):
        if isinstance(obj, Ten):
            return self.tensor_index(obj, slice_node, scope, node)
        key = self.ev(slice_node, scope)
        if isinstance(obj, ShapeOf):
            if isinstance(key, int):
                return SizeRef(obj.ten, key, _text(node))
            self.need_shape(f"line {_line(node)}: `{_text(node)}`")
        if isinstance(obj, Unknown):
            return Unknown(obj.kind, _text(node), obj.names, obj.line) if obj.kind == "name" else \
                Unknown("expr", _text(node), (), obj.line)
        if isinstance(key, Unknown):
            if key.kind == "name":
                self.ask(key)
            return Unknown(key.kind, _text(node), key.names, key.line)
        try:
            if isinstance(obj, Seq):
                if isinstance(key, slice):
                    return Seq(obj.kind, obj.children[key], obj.line)
                if isinstance(key, str):
                    return dict(obj.children)[key]
                return obj.children[key][1]
            if isinstance(obj, (list, tuple, str)) and isinstance(key, (slice, int)):
                return obj[key]
            if isinstance(obj, dict):
                return obj[key]
        except (KeyError, IndexError, TypeError, ValueError):
            raise CodeError(f"line {_line(node)}: `{_text(node)}`: no such item") from None
        raise CodeError(f"line {_line(node)}: cannot read `{_text(node)}`")

    # ------------------------------------------------------------------ calls
    def call_node(self, node: ast.Call, scope):
        func = self.ev(node.func, scope)
        layer = self.layer_name(func)
        args, kwargs = [], {}
        for i, a in enumerate(node.args):
            if isinstance(a, ast.Starred):
                args += self.iterate(self.ev(a.value, scope), a)
            else:
                args.append(self.arg(a, scope, layer, i, None))
        for kw in node.keywords:
            if kw.arg is None:
                value = self.ev(kw.value, scope)
                if isinstance(value, dict):
                    kwargs.update({str(k): v for k, v in value.items()})
                elif layer:
                    raise CodeError(f"line {node.lineno}: {layer}(**{_text(kw.value, 30)}) cannot be read: its "
                                    "keywords "
                                    "are not a dict the code writes out; write the keywords out")
                continue
            kwargs[kw.arg] = self.arg(kw.value, scope, layer, None, kw.arg)
        return self.call(func, args, kwargs, node)

    def arg(self, a, scope, layer, i, key):
        if not layer:
            return self.ev(a, scope)
        if key is None:
            positional = _POSITIONAL[self.fw].get(layer, ())
            key = positional[i] if i < len(positional) else f"argument {i + 1}"
        self.in_layer_arg += 1
        try:
            return self.ev(a, scope)
        except CodeError as e:
            message = str(e)
            if key not in message:
                message = re.sub(r"^(line \d+: )?", lambda m: f"{m.group(0)}{layer} {key}: ", message, count=1)
            raise CodeError(message) from None
        finally:
            self.in_layer_arg -= 1

    def layer_name(self, func) -> str | None:
        if isinstance(func, Ext) and func.name[:1].isupper() and func.name in _POSITIONAL[self.fw]:
            return func.name
        return None

    def call(self, func, args: list, kwargs: dict, node):
        """A call of whatever the paste holds; each kind of callee has its method (_CALLS, after the class)."""
        self.tick()
        if isinstance(func, (Obj, Seq, Mod)) and args and isinstance(args[0], Sample):
            if not self.strict and self.example_input is None:  # model(torch.randn(1, 3, 224, 224)): the input
                self.example_input = (func, args[0].shape)
            return Unknown("expr", _text(node), (), _line(node))
        handler = next((h for kind, h in _CALLS if isinstance(func, kind)), None)
        if handler is None:
            return Unknown("expr", _text(node), (), _line(node))
        return getattr(self, handler)(func, args, kwargs, node)

    def call_partial(self, func: Partial, args, kwargs, node):
        return self.call(func.func, [*func.args, *args], {**func.kwargs, **kwargs}, node)

    def call_object(self, func: Obj, args, kwargs, node):
        """A module of the paste's own classes called: its forward() (Keras: call()), or a Sequential subclass's
        children in order."""
        forward = func.cls.lookup("forward") or func.cls.lookup("call")
        if not isinstance(forward, Func) and _container(func.cls) == "Sequential":
            x = args[0] if args else None
            for child in func.attrs.values():
                if isinstance(child, MODULES):
                    x = self.call(child, [x], {}, node)
            return x
        if not isinstance(forward, Func):
            raise CodeError(f"line {_line(node)}: {func.cls.name} has no forward() to follow")
        return self.call_func(Func(forward.node, forward.scope, func), args, kwargs, node)

    def call_layer(self, func: Mod, args, kwargs, node):
        return self.apply_layer(func, args, kwargs, node)

    def call_sequence(self, func: Seq, args, kwargs, node):
        if func.kind == "keras":  # a Sequential used as a layer: one row, as Keras lists it
            mod = self.nested(func)
            return self.record(mod.spec, [self.tensor(args[0] if args else None, node, "Sequential")], mod.name, node)
        if not args:
            raise CodeError(f"line {_line(node)}: call the Sequential on a tensor")
        x = args[0]
        if not func.children and func.kind == "torch":  # nn.Sequential(): a leaf module, identity (a shortcut)
            return self.record({"type": "Sequential"}, [self.tensor(x, node, "Sequential")],
                               self.paths.get(id(func)), node)
        for _, child in func.children:
            x = self.call(child, [x], {}, node)
        return x

    def call_model(self, func: KModel, args, kwargs, node):
        return self.nested_model(func, args, node)

    def call_unknown(self, func: Unknown, args, kwargs, node):
        tensors = [a for a in args if isinstance(a, (Ten, list, tuple))]
        if any(isinstance(a, Ten) for a in args) or tensors and self.strict:
            raise self.unknown_error(func, node, f"`{_text(node)}`")
        return Unknown("expr", _text(node), func.names, _line(node))

    def call_tensor(self, func: Ten, args, kwargs, node):
        raise CodeError(f"line {_line(node)}: `{_text(node)}` calls a tensor")

    def call_func(self, func: Func, args, kwargs, node):
        """A function (or method, or lambda) of the paste, followed with its arguments bound; nested at most
        MAX_DEPTH deep."""
        fn = func.node
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.depth = 0
            raise CodeError(f"line {_line(node)}: calls nest more than {MAX_DEPTH} deep; Convscope follows flatter "
                            "code")
        try:
            scope = self.bind(func, args, kwargs, node)
            if isinstance(fn, ast.Lambda):
                return self.ev(fn.body, scope)
            self.strict += 1
            self.owners.append(func.owner)
            try:
                self.run_body(fn.body, scope)
            except _Return as r:
                return r.value
            finally:
                self.strict -= 1
                self.owners.pop()
            return None
        finally:
            self.depth = max(0, self.depth - 1)

    def bind(self, func: Func, args, kwargs, node) -> dict:
        """The call's scope: the function's closure, its parameters from the arguments, else their defaults; a
        parameter with neither is a name to ask for (a constructor's, with a note)."""
        fn = func.node
        scope = dict(func.scope or {})
        params = [*fn.args.posonlyargs, *fn.args.args]
        if func.owner is not None:
            args = [func.owner, *args]
        defaults = fn.args.defaults
        first_default = len(params) - len(defaults)
        for i, p in enumerate(params):
            if i < len(args):
                scope[p.arg] = args[i]
            elif p.arg in kwargs:
                scope[p.arg] = kwargs.pop(p.arg)
            elif i >= first_default:
                scope[p.arg] = self.ev(defaults[i - first_default], func.scope)
            else:
                scope[p.arg] = self.missing_argument(func, p.arg)
        if fn.args.vararg:
            scope[fn.args.vararg.arg] = tuple(args[len(params):])
        elif len(args) > len(params):
            raise CodeError(f"line {_line(node)}: {fn.name}() takes {len(params)} arguments, got {len(args)}")
        for p, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults):
            if p.arg in kwargs:
                scope[p.arg] = kwargs.pop(p.arg)
            elif d is not None:
                scope[p.arg] = self.ev(d, func.scope)
            else:
                scope[p.arg] = Unknown("name", p.arg, (p.arg,), fn.lineno)
        if fn.args.kwarg:
            scope[fn.args.kwarg.arg] = dict(kwargs)
        return scope

    def missing_argument(self, func: Func, name: str) -> Unknown:
        fn = func.node
        owner = func.owner.cls.name if func.owner is not None else None
        if owner and fn.name == "__init__":
            self.notes.append(f"{owner}({name}): the constructor's {name} has no default and the paste does "
                              f"not create {owner} itself: give {name} in variables")
        return Unknown("name", name, (name,), fn.lineno)

    def instantiate(self, cls: Cls, args, kwargs, node):
        obj = Obj(cls)
        init = cls.lookup("__init__")
        if isinstance(init, Func):
            self.call_func(Func(init.node, init.scope, obj), args, kwargs, node)
        return obj
    # ------------------------------------------------------------------ builtins and methods
    def method(self, m: Method, args, kwargs, node):
        """A method called on a value the paste holds; each kind of value has its method (_METHODS)."""
        t, name = m.target, m.name
        if t is None:
            return self.builtin(name, args, kwargs, node)
        handler = next((h for kind, h in _METHODS if isinstance(t, kind)), None)
        done = _NOT_A_HELPER if handler is None else handler(self, t, name, args, kwargs, node)
        return Unknown("expr", _text(node), (), _line(node)) if done is _NOT_A_HELPER else done

    def list_method(self, t: list, name, args, kwargs, node):
        if name == "append" and args:
            if len(t) >= MAX_LIST:
                raise CodeError(f"line {_line(node)}: a list of more than {MAX_LIST:,} items")
            t.append(args[0])
            return None
        if name in ("extend", "__iadd__") and args:
            items = self.iterate(args[0], node)
            if len(t) + len(items) > MAX_LIST:
                raise CodeError(f"line {_line(node)}: a list of more than {MAX_LIST:,} items")
            t.extend(items)
            return None
        if name == "insert" and len(args) == 2 and isinstance(args[0], int):
            t.insert(args[0], args[1])
            return None
        if name == "pop":
            return t.pop(*[a for a in args if isinstance(a, int)]) if t else None
        if name == "index" and args:
            return t.index(args[0]) if args[0] in t else Unknown("expr", _text(node), (), _line(node))
        if name == "copy":
            return list(t)
        return _NOT_A_HELPER

    def dict_method(self, t: dict, name, args, kwargs, node):
        if name in ("items", "keys", "values"):
            return list(getattr(t, name)())
        if name == "get":
            return t.get(args[0], args[1] if len(args) > 1 else None) if args else None
        if name == "update" and args and isinstance(args[0], dict):
            t.update(args[0])
            return None
        if name in ("pop", "setdefault") and args and (args[0] in t or len(args) > 1):  # kwargs.pop("dropout", 0.2)
            return getattr(t, name)(*args[:2])
        return _NOT_A_HELPER

    def str_method(self, t: str, name, args, kwargs, node):
        if name == "format":
            return self.str_format(t, args, kwargs, node)
        if name in ("lower", "upper", "strip"):
            return getattr(t, name)()
        if name in ("startswith", "endswith") and args and isinstance(args[0], str):
            return getattr(t, name)(args[0])
        if name in ("split", "rsplit") and len(args) <= 1 and all(isinstance(a, str) and a for a in args):
            return getattr(t, name)(*args)[:MAX_LIST]  # "efficientnetv2-b0".split("-")
        if name == "join" and args:
            items = self.iterate(args[0], node)
            return t.join(str(i) for i in items)[:1000] if all(isinstance(i, str) for i in items) else \
                Unknown("expr", _text(node), (), _line(node))
        return _NOT_A_HELPER

    def seq_method(self, t: Seq, name, args, kwargs, node):
        if name in ("append", "add") and args:
            child = args[0]
            if t.kind == "keras" and isinstance(child, Ten) and child.ref >= 0:
                raise CodeError(f"line {_line(node)}: model.add() takes a layer, not a tensor")
            t.children.append((str(len(t.children)), child))
            if t.kind == "keras" and isinstance(child, Mod) and child.input_shape and not t.children[:-1]:
                t.input_shape = child.input_shape
            return None
        if name == "add_module" and len(args) == 2:
            t.children.append((str(args[0]), args[1]))
            return None
        if name == "extend" and args:
            for c in self.iterate(args[0], node):
                t.children.append((str(len(t.children)), c))
            return None
        if name == "build" and t.kind == "keras" and (args or kwargs.get("input_shape")):
            shape = args[0] if args else kwargs.get("input_shape")
            if isinstance(shape, (list, tuple)) and all(v is None or isinstance(v, int) for v in shape) \
                    and None not in shape[1:]:
                t.input_shape = tuple(shape)
            return None
        return self.seq_view(t, name)

    @staticmethod
    def seq_view(t: Seq, name):
        """What a container's other methods give: itself (to, eval), nothing (summary, compile), its children."""
        if name in ("summary", "compile", "build", "to", "cuda", "cpu", "eval", "train"):
            return t if name in ("to", "cuda", "cpu", "eval", "train") else None
        if name in ("items",):
            return list(t.children)
        if name in ("values", "children"):
            return [c for _, c in t.children]
        if name == "keys":
            return [k for k, _ in t.children]
        return _NOT_A_HELPER

    def obj_method(self, t: Obj, name, args, kwargs, node):
        if name in ("add_module", "register_module") and len(args) == 2:
            t.attrs[str(args[0])] = args[1]
            return None
        if name in ("to", "cuda", "cpu", "eval", "train", "float", "double"):
            return t
        if name == "register_buffer" or name == "register_parameter" or name == "apply":
            return None
        if name in _MODULE_LISTS:
            return _module_list(t, name)
        if name in ("parameters", "named_parameters"):
            return []  # weight initialisation loops: they make no layers
        return _NOT_A_HELPER

    def super_method(self, t: Super, name, args, kwargs, node):
        obj = t.obj
        if name == "__init__" and isinstance(obj, Obj) and args and _container(obj.cls):
            items = list(args[0].items()) if len(args) == 1 and isinstance(args[0], dict) else \
                list(enumerate(self.iterate(args[0], node))) if _container(obj.cls) == "ModuleList" else \
                list(enumerate(args))
            for key, child in items:
                obj.attrs[str(key)] = child
        return None  # super().__init__(): nn.Module's own bookkeeping

    def mod_method(self, t: Mod, name, args, kwargs, node):
        return t if name in ("to", "cuda", "cpu", "eval", "train") else _NOT_A_HELPER

    def tensor_method_of(self, t: Ten, name, args, kwargs, node):
        return self.tensor_method(t, name, args, kwargs, node)

    def is_instance(self, value, kinds, node) -> bool:
        """isinstance(m, nn.Conv2d) on what the paste built: layers by their type, blocks by their class."""
        if isinstance(kinds, (tuple, list)):
            return any(self.is_instance(value, k, node) for k in kinds)
        if isinstance(kinds, Method) and kinds.target is None and kinds.name in ("bool", "int", "float", "str", "list",
                                                                                  "tuple", "dict"):
            return type(value).__name__ == kinds.name or kinds.name == "int" and type(value) is bool
        if isinstance(kinds, Cls):
            return isinstance(value, Obj) and _subclass(value.cls, kinds)
        if not isinstance(kinds, Ext) or isinstance(value, Unknown):
            raise CodeError(f"line {_line(node)}: `{_text(node)}` tests a type Convscope cannot tell")
        name = kinds.name
        if name == "partial":
            return isinstance(value, Partial)
        if name == "Module":
            return isinstance(value, MODULES)
        if name == "Tensor":
            return isinstance(value, Ten)
        if isinstance(value, Mod):  # _ConvNd, _BatchNorm, _InstanceNorm: the bases torch's layers share
            kind = value.spec["type"]
            return kind == name or name.startswith("_") and kind.startswith(name[1:].rstrip("Nd"))
        if isinstance(value, Seq):
            kinds = {"torch": "Sequential", "list": "ModuleList", "dict": "ModuleDict", "keras": "Sequential"}
            return kinds[value.kind] == name
        if isinstance(value, Obj):
            return _container(value.cls) == name
        return False

    def str_format(self, fmt: str, args, kwargs, node):
        def repl(m):
            key = m.group(1)
            if key == "":
                repl.i += 1
                value = args[repl.i - 1] if repl.i - 1 < len(args) else None
            elif key.isdigit():
                value = args[int(key)] if int(key) < len(args) else None
            else:
                value = kwargs.get(key)
            if not isinstance(value, (int, str)) or isinstance(value, bool):
                raise CodeError(f"line {_line(node)}: `{_text(node)}`: only numbers and strings are formatted")
            return str(value)
        repl.i = 0
        return re.sub(r"\{(\w*)\}", repl, fmt)[:200]

    def builtin(self, name, args, kwargs, node):
        """Python's builtins on the paste's values; each has its method (the table _BUILTIN_CALLS, after the
        class). A value the builtin cannot take gives an Unknown, said only if a shape needs it."""
        if name in ("print", "cast", "super") or name in ("int", "float", "round", "abs", "bool", "str") and args:
            return self.conversion(name, args, node)
        unknown = [a for a in args if isinstance(a, Unknown)]
        if unknown:
            u = unknown[0]
            if name in ("range", "len", "min", "max", "sum") and u.kind == "name":
                return u
            return Unknown("expr", _text(node), u.names, _line(node))
        for a in args:
            if isinstance(a, (SizeRef, ShapeOf)):
                self.need_shape(f"line {_line(node)}: `{_text(node)}`")
        handler = _BUILTIN_CALLS.get(name)
        try:
            done = _NOT_A_HELPER if handler is None else handler(self, name, args, kwargs, node)
        except (TypeError, ValueError, OverflowError):
            done = _NOT_A_HELPER
        return Unknown("expr", _text(node), (), _line(node)) if done is _NOT_A_HELPER else done

    def conversion(self, name, args, node):
        """print() (nothing), typing.cast, super(), and int/float/round/abs/bool/str of a value."""
        if name == "print":
            return None
        if name == "cast":
            return args[1] if len(args) == 2 else Unknown("expr", _text(node), (), _line(node))  # cast(int, v) is v
        if name == "super":
            return Super(self.owners[-1] if self.owners else None)
        v = args[0]
        if isinstance(v, Unknown):
            return v
        if isinstance(v, (SizeRef, ShapeOf)):
            self.need_shape(f"line {_line(node)}: `{_text(node)}`")
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        if number or (name in ("bool", "str") and isinstance(v, (bool, str))):
            if name == "str":
                return str(v)
            result = {"int": int, "float": float, "abs": abs, "bool": bool}.get(name, round)(v)
            return self.number(result, node)
        return Unknown("expr", _text(node), (), _line(node))

    def b_range(self, name, args, kwargs, node):
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            raise CodeError(f"line {_line(node)}: range() takes integers, got `{_text(node)}`")
        r = range(*args)
        if len(r) > MAX_LIST:
            raise CodeError(f"line {_line(node)}: range of {len(r):,} numbers; Convscope follows at most {MAX_LIST:,}")
        return r

    def b_len(self, name, args, kwargs, node):
        if not args:
            return _NOT_A_HELPER
        v = args[0]
        if isinstance(v, Seq):
            return len(v.children)
        if isinstance(v, (list, tuple, dict, str, range)):
            return len(v)
        if isinstance(v, Ten) and v.shape is not None:
            return v.shape[0]
        return _NOT_A_HELPER

    def b_reduce(self, name, args, kwargs, node):
        items = self.iterate(args[0], node) if len(args) == 1 else list(args)
        if name in ("min", "max", "sum"):
            if not all(isinstance(i, (int, float)) for i in items):
                return _NOT_A_HELPER
            return self.number({"min": min, "max": max, "sum": sum}[name](items), node)
        return {"any": any, "all": all, "sorted": sorted}[name](items)

    def b_divmod(self, name, args, kwargs, node):
        if len(args) == 2 and all(isinstance(a, int) for a in args) and args[1]:
            return divmod(*args)
        return _NOT_A_HELPER

    def b_pow(self, name, args, kwargs, node):
        return self.binop(ast.Pow(), args[0], args[1], node) if len(args) == 2 else _NOT_A_HELPER

    def b_sequence(self, name, args, kwargs, node):
        items = self.iterate(args[0], node) if args else []
        return list(items) if name == "list" else tuple(items)

    def b_dict(self, name, args, kwargs, node):
        if not args:
            return dict(kwargs)
        pairs = self.iterate(args[0], node) if not isinstance(args[0], dict) else list(args[0].items())
        out = {}
        for p in pairs:
            if isinstance(p, (list, tuple)) and len(p) == 2:
                out[p[0]] = p[1]
        return {**out, **kwargs}

    def b_enumerate(self, name, args, kwargs, node):
        if not args:
            return _NOT_A_HELPER
        start = args[1] if len(args) > 1 else kwargs.get("start", 0)
        return [(i + start, v) for i, v in enumerate(self.iterate(args[0], node))]

    def b_zip(self, name, args, kwargs, node):
        return [tuple(t) for t in zip(*[self.iterate(a, node) for a in args])]

    def b_reversed(self, name, args, kwargs, node):
        return list(reversed(self.iterate(args[0], node))) if args else _NOT_A_HELPER

    def b_isinstance(self, name, args, kwargs, node):
        return self.is_instance(args[0], args[1], node) if len(args) == 2 else _NOT_A_HELPER

    def b_type(self, name, args, kwargs, node):
        return (_type_of(args[0]) or _NOT_A_HELPER) if len(args) == 1 else _NOT_A_HELPER

    def b_attr(self, name, args, kwargs, node):
        """setattr / getattr / hasattr on the paste's own objects."""
        if name == "setattr" and len(args) == 3 and isinstance(args[0], Obj) and isinstance(args[1], str):
            args[0].attrs[args[1]] = args[2]
            return None
        if name == "getattr" and len(args) >= 2 and isinstance(args[1], str):
            return self.attribute(args[0], args[1], node)
        if name == "hasattr" and len(args) == 2 and isinstance(args[0], Obj):
            return args[1] in args[0].attrs
        return _NOT_A_HELPER


# each kind of expression node -> the Evaluator method that follows it
_EXPRESSIONS = {
    ast.Constant: Evaluator.ev_constant, ast.Name: Evaluator.ev_name, ast.Tuple: Evaluator.ev_items,
    ast.List: Evaluator.ev_items, ast.Set: Evaluator.ev_items, ast.Dict: Evaluator.ev_dict,
    ast.UnaryOp: Evaluator.ev_unary, ast.BinOp: Evaluator.ev_binop, ast.BoolOp: Evaluator.ev_boolop,
    ast.Compare: Evaluator.ev_compare, ast.IfExp: Evaluator.ev_ifexp, ast.Attribute: Evaluator.ev_attribute,
    ast.Subscript: Evaluator.ev_subscript, ast.Slice: Evaluator.ev_slice, ast.Call: Evaluator.call_node,
    ast.ListComp: Evaluator.comprehension, ast.GeneratorExp: Evaluator.comprehension,
    ast.SetComp: Evaluator.comprehension, ast.JoinedStr: Evaluator.ev_fstring, ast.Lambda: Evaluator.ev_opaque,
    ast.Starred: Evaluator.ev_starred,
}

# each kind of statement -> the Evaluator method that follows it (others are refused, named)
_STATEMENTS = {
    ast.Import: Evaluator.st_import, ast.ImportFrom: Evaluator.st_import, ast.FunctionDef: Evaluator.st_def,
    ast.ClassDef: Evaluator.define_class, ast.Assign: Evaluator.st_assign, ast.AnnAssign: Evaluator.st_annotated,
    ast.AugAssign: Evaluator.st_augmented, ast.Expr: Evaluator.st_expression, ast.Return: Evaluator.st_return,
    ast.If: Evaluator.st_if, ast.For: Evaluator.st_for, ast.With: Evaluator.st_with, ast.AsyncWith: Evaluator.st_with,
    ast.Try: Evaluator.st_try, ast.Break: Evaluator.st_break, ast.Continue: Evaluator.st_continue,
    ast.Raise: Evaluator.st_raise, ast.While: Evaluator.st_while,
    **dict.fromkeys((ast.Pass, ast.Assert, ast.Global, ast.Nonlocal, ast.Delete), Evaluator.st_nothing),
}

# the methods of what a name can hold (checked in order: the first kind that matches answers)
_METHODS = ((Ten, Evaluator.tensor_method_of), (list, Evaluator.list_method), (dict, Evaluator.dict_method),
            (str, Evaluator.str_method), (Seq, Evaluator.seq_method), (Obj, Evaluator.obj_method),
            (Super, Evaluator.super_method), (Mod, Evaluator.mod_method))

# Python's builtins the paste may call -> the Evaluator method that answers (conversions: Evaluator.conversion)
_BUILTIN_CALLS = {
    "range": Evaluator.b_range, "len": Evaluator.b_len, "divmod": Evaluator.b_divmod, "pow": Evaluator.b_pow,
    **dict.fromkeys(("min", "max", "sum", "any", "all", "sorted"), Evaluator.b_reduce),
    "list": Evaluator.b_sequence, "tuple": Evaluator.b_sequence, "dict": Evaluator.b_dict,
    "OrderedDict": Evaluator.b_dict, "enumerate": Evaluator.b_enumerate, "zip": Evaluator.b_zip,
    "reversed": Evaluator.b_reversed, "isinstance": Evaluator.b_isinstance, "type": Evaluator.b_type,
    **dict.fromkeys(("setattr", "getattr", "hasattr"), Evaluator.b_attr),
}

# attributes of what a name can hold (the first kind that matches answers; the rest are methods or unknown)
_ATTRIBUTES = ((Ext, Evaluator.attr_ext), (Unknown, Evaluator.attr_unknown), (Obj, Evaluator.attr_obj),
               (Cls, Evaluator.attr_cls), (Ten, Evaluator.attr_ten), (Mod, Evaluator.attr_mod),
               (dict, Evaluator.attr_dict), (Partial, Evaluator.attr_partial), (KModel, Evaluator.attr_kmodel))

# what a call does, by what is called (the first kind that matches answers; anything else is unknown)
_CALLS = ((Func, "call_func"), (Cls, "instantiate"), (Method, "method"), (Ext, "external"),  # external: torch_calls
          (Partial, "call_partial"), (Obj, "call_object"), (Mod, "call_layer"), (Seq, "call_sequence"),
          (KModel, "call_model"), (Unknown, "call_unknown"), (Ten, "call_tensor"))

# comparison operators on the paste's plain values (`in` only on containers)
_COMPARISONS = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
    ast.Is: lambda a, b: a is b or (a is None and b is None),
    ast.IsNot: lambda a, b: not (a is b or (a is None and b is None)),
    ast.In: lambda a, b: a in b if isinstance(b, (list, tuple, dict, str)) else False,
    ast.NotIn: lambda a, b: a not in b if isinstance(b, (list, tuple, dict, str)) else True,
    ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
}
