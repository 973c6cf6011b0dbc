"""Harrow's helper for training programs. Standard library only; copy it next to your script.

Under ``harrow agent`` a run gets its parameters and tells back its metrics::

    import harrow

    p = harrow.params({"lr": 0.01, "epochs": 10})  # the sweep's values over your defaults
    for epoch in range(p["epochs"]):
        ...
        harrow.log({"loss": loss, "val_acc": acc}, step=epoch)

Run outside a sweep, ``params()`` returns the defaults and ``log()`` prints JSON lines, so the
same script works on its own. The protocol underneath is documented in README.md.
"""

import json
import os
import sys

__all__ = ["params", "log", "sweep_id", "run_id", "attempt", "checkpoint_dir", "checkpoint_requested", "agent", "AgentError"]

_warned_fallback = False


def params(defaults=None):
    """Return this run's parameters as a dict.

    Reads the JSON file named by ``HARROW_PARAMS_FILE``. Keys of ``defaults`` that the sweep
    does not set keep their default value. Outside a sweep, returns a copy of ``defaults``
    (or ``{}``).
    """
    merged = dict(defaults or {})
    path = os.environ.get("HARROW_PARAMS_FILE")
    if not path:
        return merged
    with open(path, encoding="utf-8") as f:
        swept = json.load(f)
    if not isinstance(swept, dict):
        raise ValueError("HARROW_PARAMS_FILE %s does not hold a JSON object" % path)
    merged.update(swept)
    return merged


def log(metrics, step=None):
    """Record metrics for this run, e.g. ``log({"loss": 0.31, "acc": 0.9}, step=3)``.

    ``metrics`` maps names to numbers (ints, floats, or anything with ``__float__`` such as
    numpy or torch scalars; NaN and infinities are allowed). ``step`` is a whole number ≥ 0;
    without it the point gets the step after the last one this run logged.

    Under an agent, appends one JSON line to ``HARROW_METRICS_FILE``; otherwise prints the
    same JSON line on stdout.
    """
    if not isinstance(metrics, dict):
        raise TypeError("harrow.log takes a dict of metrics, such as {'loss': 0.3} (got %s)" % type(metrics).__name__)
    record = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or not name:
            raise TypeError("harrow.log: metric names must be non-empty strings (got %r)" % (name,))
        if name in ("step", "_step"):
            raise ValueError("harrow.log: pass the step as log(..., step=N), not as a metric named %r" % name)
        record[name] = _number(name, value)
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, int):
            try:
                as_int = int(step)
            except (TypeError, ValueError):
                as_int = None
            if as_int is None or as_int != step:
                raise TypeError("harrow.log: step must be a whole number (got %r)" % (step,))
            step = as_int
        if step < 0:
            raise ValueError("harrow.log: step must be ≥ 0 (got %d)" % step)
        record["step"] = step
    line = json.dumps(record, allow_nan=True) + "\n"
    _write(line)


def sweep_id():
    """The id of the sweep this run belongs to, or None outside a sweep."""
    return os.environ.get("HARROW_SWEEP_ID")


def run_id():
    """The id of this run, or None outside a sweep."""
    return os.environ.get("HARROW_RUN_ID")


def attempt():
    """This run's attempt: 1 the first time, 2 for the first retry (after a crash), ...

    1 outside a sweep. A program that writes checkpoints by run id resumes when it is above 1.
    """
    value = os.environ.get("HARROW_ATTEMPT")
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


def checkpoint_dir():
    """This run's checkpoint directory: the same for all its attempts, on whichever box.

    Save checkpoints there and, when it holds one, resume from it: a retry after a crash and a
    run handed back by a drained or preempted agent are new attempts of the same run. None outside
    a sweep (or under an agent without HARROW_CHECKPOINT_ROOT); the directory exists.
    """
    return os.environ.get("HARROW_CHECKPOINT_DIR")


_checkpoint_flag = []


def checkpoint_requested():
    """True once the agent asked for a checkpoint (SIGUSR1: it is draining, or its box is reclaimed).

    The run then has HARROW_CHECKPOINT_GRACE_MS to save a checkpoint and exit before it is stopped
    (SIGTERM); it will resume from checkpoint_dir() as a new attempt, elsewhere. Call it between
    steps; the first call installs the SIGUSR1 handler (main thread only).
    """
    if not _checkpoint_flag:
        import signal

        _checkpoint_flag.append(False)

        def _on_usr1(signum, frame):
            _checkpoint_flag[0] = True

        try:
            signal.signal(signal.SIGUSR1, _on_usr1)
        except (ValueError, AttributeError):
            pass  # not the main thread, or no SIGUSR1 (Windows)
    return _checkpoint_flag[0]


def _number(name, value):
    if isinstance(value, bool):
        raise TypeError("harrow.log: metric %r is a bool; log 1 or 0 instead" % name)
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError("harrow.log: metric %r must be a number (got %s)" % (name, type(value).__name__)) from None
    return number


def _write(line):
    global _warned_fallback
    path = os.environ.get("HARROW_METRICS_FILE")
    if path:
        try:
            # One write() on an O_APPEND descriptor: lines from several processes never interleave.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
            return
        except OSError as err:
            if not _warned_fallback:
                _warned_fallback = True
                print("harrow: cannot append to %s (%s); logging metrics on stdout instead" % (path, err), file=sys.stderr)
    sys.stdout.write(line)
    sys.stdout.flush()


# --- The function agent: W&B's ``wandb.agent(sweep_id, function=train)``, over Harrow's HTTP agent
# protocol (README, "Agents over HTTP"). The controller hands out a run and answers its claim only
# once it committed it; train() then runs in this process with the run's parameters, its metrics
# (harrow.log, or wandb.log through the shim) are sent with a seq each (stored exactly once), and a
# heartbeat thread keeps the run alive and brings back stop/cancel requests.

_AGENT_API = "/api/agent/v1"
_TAIL_BYTES = 16 * 1024


def agent(sweep_id, function, count=None, server=None, token=None):
    """Run ``function`` once per run of sweep ``sweep_id``, as ``wandb.agent`` does.

    Each run's parameters reach ``function`` through ``harrow.params()`` (and ``wandb.config``
    under the wandb module); its metrics are ``harrow.log`` calls. Stops after ``count`` runs, or
    when the sweep is finished or canceled. The controller is found through ``HARROW_URL`` and
    ``HARROW_TOKEN`` (or ``server=``/``token=``). An exception in ``function`` fails that run, with
    its traceback kept as the run's output, and the agent goes on to the next run. Ctrl-C once:
    finish the current run, then return; twice: stop the current run now.
    """
    if not callable(function):
        raise TypeError("harrow.agent needs function=<a callable taking no arguments>")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ValueError("harrow.agent: count must be a whole number >= 1 (got %r)" % (count,))
    return _FunctionAgent(str(sweep_id), function, count, server, token).run()


class AgentError(Exception):
    """The controller could not be reached, or refused a call of the function agent."""

    def __init__(self, status, code, message):
        Exception.__init__(self, message)
        self.status = status
        self.code = code


class _FunctionAgent(object):
    def __init__(self, sweep_id, function, count, server, token):
        import socket
        import threading

        self.sweep_id = sweep_id
        self.function = function
        self.count = count
        self.server = (server or os.environ.get("HARROW_URL") or "http://127.0.0.1:8080").rstrip("/")
        self.token = token if token is not None else (os.environ.get("HARROW_TOKEN") or "").strip() or None
        self.heartbeat_s = _env_ms("HARROW_HEARTBEAT_MS", 5000) / 1000.0
        self.poll_s = _env_ms("HARROW_CONTROL_POLL_MS", 1000) / 1000.0
        self.host = socket.gethostname()
        self.agent_id = "%s-%d-%s" % (self.host, os.getpid(), os.urandom(3).hex())
        self.lock = threading.Lock()
        self.current = None  # the running run: {"runId", "token", "stop": None or (kind, reason)}
        self.accepting = True
        self.interrupts = 0
        self.control_interrupt = False
        self.done = threading.Event()
        self.exit_reason = None

    # -- HTTP ---------------------------------------------------------------------------------
    def _call(self, what, body, timeout):
        import urllib.error
        import urllib.request

        url = "%s%s/sweeps/%s/%s" % (self.server, _AGENT_API, self.sweep_id, what)
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = "Bearer " + self.token
        req = urllib.request.Request(url, data=json.dumps(body, allow_nan=False).encode("utf-8"), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                return json.loads(res.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            try:
                payload = json.loads(err.read().decode("utf-8"))
            except Exception:
                payload = {}
            message = payload.get("message") or ("HTTP %d" % err.code)
            if err.code == 401:
                message += " (set HARROW_TOKEN to the token the server was started with)"
            raise AgentError(err.code, payload.get("code"), message) from None
        except (urllib.error.URLError, OSError) as err:
            import ssl

            reason = getattr(err, "reason", err)
            if isinstance(reason, ssl.SSLCertVerificationError):
                # A certificate that does not verify now will not on the next try: stop, say how to fix it.
                raise AgentError(
                    400,
                    "INVALID_CONFIG",
                    "cannot talk to the Harrow server at %s: its TLS certificate does not verify (%s); "
                    "give Python the CA that signed it with SSL_CERT_FILE=/path/ca.pem, or add the CA to the system's store"
                    % (self.server, getattr(reason, "verify_message", None) or reason),
                ) from None
            raise AgentError(None, "SERVICE_UNAVAILABLE", "cannot reach the Harrow server at %s (%s); is it running? (set HARROW_URL)" % (self.server, err)) from None

    def _deliver(self, report):
        """One report, retried while the server is away (re-sending is harmless: seq dedups)."""
        import time

        backoff = 0.2
        while True:
            try:
                return self._call("reports", report, 15)
            except AgentError as err:
                if err.status is not None and err.status < 500:
                    raise
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    # -- the loop -----------------------------------------------------------------------------
    def run(self):
        import signal
        import threading

        first = self._poll(heartbeat=False)
        if first.get("state") in ("finished", "canceled"):
            print("harrow: sweep %s is already %s; nothing to run" % (self.sweep_id, first["state"]), file=sys.stderr)
            return 0
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, self._on_sigint)
        poller = threading.Thread(target=self._poll_loop, name="harrow-heartbeat", daemon=True)
        poller.start()
        runs = 0
        try:
            while self.accepting and (self.count is None or runs < self.count):
                got = self._claim()
                if got is None:
                    continue
                runs += 1
                self._run_one(got)
        finally:
            self.done.set()
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            try:
                self._call("leave", {"agentId": self.agent_id}, 5)
            except AgentError:
                pass
        return runs

    def _on_sigint(self, signum, frame):
        if self.control_interrupt:
            # Not a Ctrl-C: _control's interrupt_main() for a stop/cancel/abort of the current run.
            self.control_interrupt = False
            raise KeyboardInterrupt
        self.interrupts += 1
        if self.interrupts == 1:
            self.accepting = False
            print("\nharrow agent: taking no more runs; the current run will finish. Press Ctrl-C again to stop it.", file=sys.stderr, flush=True)
        elif self.interrupts == 2:
            print("\nharrow agent: stopping the current run.", file=sys.stderr, flush=True)
            with self.lock:
                if self.current is not None and self.current["stop"] is None:
                    self.current["stop"] = ("interrupt", "agent interrupted")
            raise KeyboardInterrupt
        else:
            os._exit(130)

    def _claim(self):
        import time
        import uuid

        token = str(uuid.uuid4())
        body = {"agentId": self.agent_id, "host": self.host, "gpu": None, "token": token, "waitMs": 25000}
        try:
            res = self._call("claim", body, 80)
        except AgentError as err:
            if err.status is not None and err.status < 500:
                raise
            print("harrow: %s; retrying" % err, file=sys.stderr)
            time.sleep(1)
            return None
        if res.get("kind") == "none":
            if res.get("state") in ("finished", "canceled"):
                self.accepting = False
                self.exit_reason = "sweep-" + res["state"]
            return None
        answer = res["answer"]
        if answer.get("verdict") != "accepted":
            return None
        return {"job": res["job"], "token": token, "attempt": answer["attempt"]}

    def _poll(self, heartbeat):
        import time

        with self.lock:
            cur = self.current
            runs = [{"runId": cur["runId"], "token": cur["token"]}] if cur is not None else []
        presence = {"agentId": self.agent_id, "host": self.host, "slots": 1, "busy": len(runs), "accepting": self.accepting, "at": int(time.time() * 1000)}
        res = self._call("poll", {"presence": presence, "runs": runs, "heartbeat": heartbeat}, 15)
        controls = res.get("controls") or []
        if cur is not None and controls and controls[0] is not None:
            control = controls[0]
            if control.get("token") in (None, cur["token"]):
                self._control(cur, control)
        if res.get("state") in ("finished", "canceled"):
            self.accepting = False
        return res

    def _control(self, cur, control):
        import _thread

        with self.lock:
            if cur["stop"] is not None or cur.get("ended"):
                return
            cur["stop"] = (control["action"], control.get("reason", ""))
        print("harrow: run %s: %s requested (%s)" % (cur["runId"], control["action"], control.get("reason", "")), file=sys.stderr, flush=True)
        # train() runs in the main thread: interrupt it there, as a signal would a command's process.
        # interrupt_main() goes through the SIGINT handler, which must not count it as a Ctrl-C.
        self.control_interrupt = True
        _thread.interrupt_main()

    def _poll_loop(self):
        import time

        last_beat = 0.0
        while not self.done.wait(self.poll_s):
            now = time.time()
            beat = now - last_beat >= self.heartbeat_s
            try:
                self._poll(heartbeat=beat)
                if beat:
                    last_beat = now
            except AgentError:
                pass
            except Exception as err:  # a bug here must not kill the heartbeat silently
                print("harrow: heartbeat error: %r" % (err,), file=sys.stderr)

    def _run_one(self, got):
        import shutil
        import tempfile
        import threading
        import time
        import traceback

        job = got["job"]
        cur = {"runId": job["runId"], "token": got["token"], "stop": None}
        tmp = tempfile.mkdtemp(prefix="harrow-fn-")
        params_file = os.path.join(tmp, "params.json")
        metrics_file = os.path.join(tmp, "metrics.jsonl")
        with open(params_file, "w", encoding="utf-8") as f:
            json.dump(job["params"], f)
        open(metrics_file, "w").close()
        env = {
            "HARROW_SWEEP_ID": job["sweepId"],
            "HARROW_RUN_ID": job["runId"],
            "HARROW_ATTEMPT": str(got["attempt"]),
            "HARROW_PARAMS_FILE": params_file,
            "HARROW_METRICS_FILE": metrics_file,
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        sender = _MetricsSender(self, job, got["token"], metrics_file)
        sender_thread = threading.Thread(target=sender.loop, name="harrow-metrics", daemon=True)
        tail = _Tail()
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(out, tail), _Tee(err, tail)
        with self.lock:
            self.current = cur
        sender_thread.start()
        print("harrow: run %d (%s) started: %s" % (job["number"], job["runId"], json.dumps(job["params"], sort_keys=True)), file=sys.stderr, flush=True)
        outcome, reason = "finished", "returned"
        try:
            try:
                self.function()
            finally:
                _finish_wandb()
        except KeyboardInterrupt:
            stop = cur["stop"] or ("interrupt", "agent interrupted")
            outcome, reason = _stop_outcome(stop)
        except BaseException as exc:  # noqa: B036 (SystemExit from train fails the run too)
            stop = cur["stop"]
            if stop is not None:
                outcome, reason = _stop_outcome(stop)
            else:
                traceback.print_exc()
                outcome, reason = "failed", "exception: %s" % (traceback.format_exception_only(type(exc), exc)[-1].strip(),)
        finally:
            with self.lock:
                cur["ended"] = True
                self.current = None
            sys.stdout, sys.stderr = out, err
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            sender.stop()
            sender_thread.join()
            shutil.rmtree(tmp, ignore_errors=True)
        if cur["stop"] is not None and cur["stop"][0] == "abort":
            print("harrow: run %s aborted: another attempt owns it; nothing reported" % job["runId"], file=sys.stderr)
            return
        self._deliver({
            "v": 1, "type": "end", "sweepId": job["sweepId"], "agentId": self.agent_id, "runId": job["runId"],
            "token": got["token"], "outcome": outcome, "exitCode": None, "signal": None, "reason": reason,
            "tail": tail.text(), "lastSeq": sender.seq, "at": int(time.time() * 1000),
        })
        print("harrow: run %d ended %s (%s)" % (job["number"], outcome, reason), file=sys.stderr, flush=True)


def _stop_outcome(stop):
    kind, reason = stop
    if kind == "stop":
        return "stopped", "stopped by controller: %s" % reason
    if kind == "cancel":
        return "canceled", "canceled: %s" % reason
    return "stopped", reason


def _finish_wandb():
    """W&B's agent finishes the run train() left open; so does this one, through the shim."""
    shim = sys.modules.get("wandb")
    if shim is not None and getattr(shim, "_HARROW_SHIM", False) and getattr(shim, "run", None) is not None:
        shim.finish()


def _env_ms(name, default):
    try:
        return max(10, int(os.environ.get(name, default)))
    except ValueError:
        return default


class _Tail(object):
    """The last _TAIL_BYTES of the run's output, kept with the run as a command's output is."""

    def __init__(self):
        self.parts = []
        self.size = 0

    def add(self, text):
        self.parts.append(text)
        self.size += len(text)
        while self.size > _TAIL_BYTES and len(self.parts) > 1:
            self.size -= len(self.parts.pop(0))

    def text(self):
        return "".join(self.parts)[-_TAIL_BYTES:]


class _Tee(object):
    def __init__(self, stream, tail):
        self._stream = stream
        self._tail = tail

    def write(self, text):
        self._tail.add(text)
        return self._stream.write(text)

    def flush(self):
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _MetricsSender(object):
    """Reads the run's metrics file as the command agent does and sends its points, each with a seq."""

    def __init__(self, agent, job, token, path):
        import threading

        self.agent = agent
        self.job = job
        self.token = token
        self.path = path
        self.offset = 0
        self.partial = ""
        self.seq = 0
        self.last_step = -1
        self.stopping = threading.Event()

    def loop(self):
        while not self.stopping.wait(0.25):
            self._send(self._read())
        self._send(self._read(final=True))

    def stop(self):
        self.stopping.set()

    def _read(self, final=False):
        import math
        import time

        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []
        self.offset += len(data)
        text = self.partial + data.decode("utf-8", errors="replace")
        lines = text.split("\n")
        self.partial = "" if final else lines.pop()
        points = []
        now = int(time.time() * 1000)
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            step = record.pop("step", record.pop("_step", None))
            step = step if isinstance(step, int) and not isinstance(step, bool) and step >= 0 else self.last_step + 1
            self.last_step = step
            for name, value in record.items():
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                if isinstance(value, float) and not math.isfinite(value):
                    value = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
                self.seq += 1
                points.append({"seq": self.seq, "step": step, "name": name, "value": value, "t": now})
        return points

    def _send(self, points):
        for i in range(0, len(points), 500):
            report = {"v": 1, "type": "metrics", "sweepId": self.job["sweepId"], "agentId": self.agent.agent_id,
                      "runId": self.job["runId"], "token": self.token, "points": points[i:i + 500]}
            try:
                self.agent._deliver(report)
            except AgentError as err:
                print("harrow: could not send metrics (%s); those points are lost" % err, file=sys.stderr)
