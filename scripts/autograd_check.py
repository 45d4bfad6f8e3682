#!/usr/bin/python3
"""Independent float64 check of bovit's exported gradients.

Recomputes losses and gradients of the one-layer softmax-attention model
    Q = X W_Q, K = X W_K, S = rowsoftmax(tau Q K^T), v = X W_V w_O,
    f_n = (1/M) sum_{l,i} S[l,i] v[i],  L = (1/N) sum_n softplus(-y_n f_n)
with a tiny reverse-mode autograd tape (no hand-derived model gradients), and
compares them with an export directory (X.npy, y.npy, X_test.npy, y_test.npy,
w_O.npy, step_0/, step_K/).  It also replays the K gradient-descent steps from
step_0 and compares the weights reached with step_K.

Usage:  autograd_check.py DIR [--tol 1e-9]      exit 0 ok, 1 mismatch, 2 bad input
        autograd_check.py --selftest            tape vs central finite differences
"""
import argparse
import json
import os
import re
import sys

import numpy as np

# ---------------------------------------------------------------- autograd tape


class Var:
    """A value on the tape; `needs` marks whether gradients flow into it."""

    def __init__(self, tape, value, needs):
        self.tape, self.value, self.needs, self.grad = tape, value, needs, None

    def _lift(self, o):
        return o if isinstance(o, Var) else self.tape.const(o)

    def __add__(self, o):
        o = self._lift(o)
        return self.tape.op(self.value + o.value, (self, o),
                            (lambda g: g, lambda g: g))

    def __sub__(self, o):
        o = self._lift(o)
        return self.tape.op(self.value - o.value, (self, o),
                            (lambda g: g, lambda g: -g))

    def __mul__(self, o):
        o = self._lift(o)
        return self.tape.op(self.value * o.value, (self, o),
                            (lambda g: g * o.value, lambda g: g * self.value))

    def __truediv__(self, o):
        o = self._lift(o)
        return self.tape.op(self.value / o.value, (self, o),
                            (lambda g: g / o.value,
                             lambda g: -g * self.value / o.value ** 2))

    def __matmul__(self, o):
        o = self._lift(o)
        a, b = self.value, o.value

        def grad_b(g):  # fold batch dims into one big matmul for 2-D weights
            if b.ndim == 2 and a.ndim > 2:
                return a.reshape(-1, a.shape[-1]).T @ g.reshape(-1, g.shape[-1])
            return np.swapaxes(a, -1, -2) @ g
        return self.tape.op(a @ b, (self, o),
                            (lambda g: g @ np.swapaxes(b, -1, -2), grad_b))

    __radd__ = __add__
    __rmul__ = __mul__

    def __rsub__(self, o):
        return self._lift(o) - self

    def __neg__(self):
        return self * -1.0

    @property
    def T(self):  # swap the last two axes
        return self.tape.op(np.swapaxes(self.value, -1, -2), (self,),
                            (lambda g: np.swapaxes(g, -1, -2),))


def _unbroadcast(g, shape):
    """Sum g down to `shape`, undoing numpy broadcasting."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for ax, n in enumerate(shape):
        if n == 1 and g.shape[ax] != 1:
            g = g.sum(axis=ax, keepdims=True)
    return g


class Tape:
    def __init__(self):
        self.ops = []

    def var(self, value):
        return Var(self, np.array(value, dtype=np.float64), True)

    def const(self, value):
        return Var(self, np.asarray(value, dtype=np.float64), False)

    def op(self, value, parents, vjps):
        out = Var(self, value, any(p.needs for p in parents))
        if out.needs:
            self.ops.append((out, parents, vjps))
        return out

    def backward(self, out):
        out.grad = np.ones_like(out.value)
        for node, parents, vjps in reversed(self.ops):
            if node.grad is None:
                continue
            for p, vjp in zip(parents, vjps):
                if p.needs:
                    g = _unbroadcast(vjp(node.grad), p.value.shape)
                    p.grad = g if p.grad is None else p.grad + g


def exp(x):
    e = np.exp(x.value)
    return x.tape.op(e, (x,), (lambda g: g * e,))


def softplus(x):  # log(1 + e^x), evaluated stably; d/dx = sigmoid(x)
    return x.tape.op(np.logaddexp(0.0, x.value), (x,),
                     (lambda g: g * 0.5 * (1.0 + np.tanh(0.5 * x.value)),))


def vsum(x, axis=None, keepdims=False):
    shape = x.value.shape

    def vjp(g):
        if axis is not None and not keepdims:
            g = np.expand_dims(g, axis)
        return np.broadcast_to(g, shape)
    return x.tape.op(np.sum(x.value, axis=axis, keepdims=keepdims), (x,), (vjp,))


def reshape(x, shape):
    old = x.value.shape
    return x.tape.op(x.value.reshape(shape), (x,), (lambda g: g.reshape(old),))


# ---------------------------------------------------------------- model


def model_loss(W, X, y, tau, train_w_O, need_grad=True):
    """Mean logistic loss; returns (loss, {name: grad}) with grads from the tape."""
    tape = Tape()
    trained = ["W_Q", "W_K", "W_V"] + (["w_O"] if train_w_O else [])
    P = {k: (tape.var(W[k]) if need_grad and k in trained else tape.const(W[k]))
         for k in W}
    X, y = tape.const(X), tape.const(y)
    N, M = X.value.shape[:2]
    Q, K = X @ P["W_Q"], X @ P["W_K"]
    Z = tau * (Q @ K.T)                                        # N x M x M
    Z = Z - tape.const(Z.value.max(axis=-1, keepdims=True))   # stop-gradient shift
    E = exp(Z)
    S = E / vsum(E, axis=-1, keepdims=True)
    v = X @ (P["W_V"] @ reshape(P["w_O"], (-1, 1)))            # N x M x 1
    f = vsum(S @ v, axis=(1, 2)) * (1.0 / M)                   # N
    L = vsum(softplus(-(y * f))) * (1.0 / N)
    if not need_grad:
        return float(L.value), {}
    tape.backward(L)
    return float(L.value), {k: P[k].grad for k in trained}


def rel_err(got, ref):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    if got.shape != ref.shape:
        return float("inf")
    if got.size == 0:
        return 0.0
    diff, scale = np.max(np.abs(got - ref)), np.max(np.abs(ref))
    return float(diff / scale if scale > 1e-12 else diff)


# ---------------------------------------------------------------- export input


class BadInput(Exception):
    pass


def load_npy(path, shape=None):
    if not os.path.isfile(path):
        raise BadInput(f"missing file: {path}")
    try:
        a = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - any unreadable file is bad input
        raise BadInput(f"cannot read {path}: {e}")
    if a.dtype.kind not in "fiu":
        raise BadInput(f"{path}: non-numeric dtype {a.dtype}")
    if shape is not None and (a.ndim != len(shape) or any(
            s is not None and s != n for s, n in zip(shape, a.shape))):
        want = "x".join("?" if s is None else str(s) for s in shape)
        raise BadInput(f"{path}: shape {a.shape}, expected {want}")
    return a.astype(np.float64)


def load_metrics(path):
    try:
        with open(path) as fh:
            m = json.load(fh)
    except (OSError, ValueError) as e:
        raise BadInput(f"cannot read {path}: {e}")
    for k in ("train_loss", "test_loss", "learning_rate"):
        if not isinstance(m.get(k), (int, float)) or isinstance(m.get(k), bool):
            raise BadInput(f"{path}: missing or non-numeric key '{k}'")
    return m


def load_export(d):
    if not os.path.isdir(d):
        raise BadInput(f"not a directory: {d}")
    X = load_npy(os.path.join(d, "X.npy"), (None, None, None))
    N, M, D = X.shape
    y = load_npy(os.path.join(d, "y.npy"), (N,))
    Xt = load_npy(os.path.join(d, "X_test.npy"), (None, M, D))
    yt = load_npy(os.path.join(d, "y_test.npy"), (Xt.shape[0],))
    w_O = load_npy(os.path.join(d, "w_O.npy"), (None,))
    for name, lab in (("y.npy", y), ("y_test.npy", yt)):
        if not np.all(np.abs(lab) == 1):
            raise BadInput(f"{os.path.join(d, name)}: labels must be +1/-1")
    steps = sorted((int(m.group(1)), e) for e in os.listdir(d)
                   if (m := re.fullmatch(r"step_(\d+)", e))
                   and os.path.isdir(os.path.join(d, e)))
    if len(steps) != 2 or steps[0][0] != 0:
        raise BadInput(f"{d}: expected exactly two dirs step_0 and step_K (K>0), "
                       f"found {[e for _, e in steps]}")
    dv = w_O.shape[0]
    out = []
    for t, name in steps:
        sd = os.path.join(d, name)
        met = load_metrics(os.path.join(sd, "metrics.json"))
        W = {"W_Q": load_npy(os.path.join(sd, "W_Q.npy"), (D, None))}
        dh = W["W_Q"].shape[1]
        shapes = {"W_Q": (D, dh), "W_K": (D, dh), "W_V": (D, dv), "w_O": (dv,)}
        W["W_K"] = load_npy(os.path.join(sd, "W_K.npy"), shapes["W_K"])
        W["W_V"] = load_npy(os.path.join(sd, "W_V.npy"), shapes["W_V"])
        trained_O = bool(met.get("train_w_O", False))
        p = os.path.join(sd, "w_O.npy")
        if trained_O and not os.path.isfile(p):
            raise BadInput(f"missing file: {p} (train_w_O is true)")
        W["w_O"] = load_npy(p, shapes["w_O"]) if os.path.isfile(p) else w_O
        G = {k: load_npy(os.path.join(sd, f"grad_{k}.npy"), shapes[k])
             for k in ("W_Q", "W_K", "W_V")}
        p = os.path.join(sd, "grad_w_O.npy")
        if trained_O and os.path.isfile(p):
            G["w_O"] = load_npy(p, shapes["w_O"])
        out.append((t, name, W, G, met))
    return X, y, Xt, yt, out


# ---------------------------------------------------------------- checks


def check_export(d, tol):
    X, y, Xt, yt, steps = load_export(d)
    met0 = steps[0][4]
    tau, lr = float(met0.get("tau", 1.0)), float(met0["learning_rate"])
    train_O = bool(met0.get("train_w_O", False))
    results = []

    def report(label, err):
        ok = err <= tol  # NaN fails
        results.append(ok)
        print(f"{label:<28s} rel_err={err:.3e}  {'OK' if ok else 'FAIL'}")

    for t, name, W, G, met in steps:
        loss, grads = model_loss(W, X, y, tau, train_O)
        test_loss, _ = model_loss(W, Xt, yt, tau, train_O, need_grad=False)
        report(f"{name} train_loss", rel_err(loss, met["train_loss"]))
        report(f"{name} test_loss", rel_err(test_loss, met["test_loss"]))
        for k in G:
            report(f"{name} grad_{k}", rel_err(grads[k], G[k]))

    (_, _, W, _, _), (K, nameK, WK, _, metK) = steps
    W = dict(W)
    for _ in range(K):
        _, grads = model_loss(W, X, y, tau, train_O)
        W = {k: W[k] - lr * grads[k] if k in grads else W[k] for k in W}
    loss, _ = model_loss(W, X, y, tau, train_O, need_grad=False)
    for k in ("W_Q", "W_K", "W_V") + (("w_O",) if train_O else ()):
        report(f"trajectory {nameK} {k}", rel_err(W[k], WK[k]))
    report(f"trajectory {nameK} train_loss", rel_err(loss, metK["train_loss"]))
    npass = sum(results)
    print(f"autograd_check: {npass} passed, {len(results) - npass} failed")
    return 0 if npass == len(results) else 1


def selftest():
    rng = np.random.default_rng(0)
    N, M, D, dh, dv = 4, 3, 6, 2, 3
    X = rng.normal(size=(N, M, D))
    y = rng.choice([-1.0, 1.0], size=N)
    W = {"W_Q": rng.normal(size=(D, dh)), "W_K": rng.normal(size=(D, dh)),
         "W_V": rng.normal(size=(D, dv)), "w_O": rng.normal(size=dv)}
    worst, h = 0.0, 1e-6
    for tau in (1.0, 0.7):
        _, grads = model_loss(W, X, y, tau, train_w_O=True)
        for k, g in grads.items():
            fd = np.zeros_like(g)
            for idx in np.ndindex(*g.shape):
                Wp, Wm = dict(W), dict(W)
                Wp[k], Wm[k] = W[k].copy(), W[k].copy()
                Wp[k][idx] += h
                Wm[k][idx] -= h
                fd[idx] = (model_loss(Wp, X, y, tau, True, False)[0]
                           - model_loss(Wm, X, y, tau, True, False)[0]) / (2 * h)
            err = rel_err(g, fd)
            worst = max(worst, err)
            print(f"selftest tau={tau} grad_{k:<4s} rel_err={err:.3e}")
    big = model_loss({**W, "w_O": 1e4 * W["w_O"]}, X, y, 1.0, False)
    finite = np.isfinite(big[0]) and all(np.all(np.isfinite(g)) for g in big[1].values())
    ok = worst < 1e-6 and finite
    print(f"autograd_check selftest: {'PASS' if ok else 'FAIL'} "
          f"(max rel err {worst:.3e}, large-margin finite={finite})")
    return 0 if ok else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", help="bovit export directory")
    ap.add_argument("--tol", type=float, default=1e-9)
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args(argv)
    if a.selftest:
        return selftest()
    if a.dir is None:
        ap.error("DIR is required unless --selftest is given")
    try:
        return check_export(a.dir, a.tol)
    except BadInput as e:
        print(f"autograd_check: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
