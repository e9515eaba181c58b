"""Accounts, sessions, login throttling and the console's audit log, all under STATE/console/.

users.json   name -> {role, hash (argon2id)}; written atomically, mode 0600
lockout.json name -> {failures, locked_until}; survives a restart, so a lock-out stays a lock-out
audit.log    one JSON line per action: time (UTC), user, action, detail, client address
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from provdc.errors import ProvdcError

ROLES = ("admin", "security_officer", "it_staff", "viewer")
# who may do what: the role names a permission, never the other way round
PERMISSIONS = {
    "record_evidence": {"security_officer"},
    "approve_waiver": {"security_officer"},
    "manage_users": {"admin"},
    "render_report": {"admin", "security_officer"},
}
MAX_FAILURES = 5                 # failed logins in a row before the account locks
LOCK_SECONDS = 15 * 60
SESSION_SECONDS = 8 * 3600       # one working day; then log in again
NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,31}$"


class ConsoleError(ProvdcError):
    """A console account or state problem (bad name, unknown role, unreadable state)."""


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS.get(permission, set())


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConsoleError(f"{path}: unreadable ({exc})") from None


@dataclass
class Session:
    user: str
    role: str
    csrf: str
    expires: float


class Accounts:
    """Users, lock-outs and sessions of one state directory (sessions live in memory: a restart
    logs everyone out, which is the safe direction)."""

    def __init__(self, state: Path) -> None:
        self.dir = state / "console"
        self.hasher = PasswordHasher()
        self.lock = threading.Lock()
        self.sessions: dict[str, Session] = {}

    # -- users
    def users(self) -> dict[str, dict]:
        return _read_json(self.dir / "users.json")

    def add_user(self, name: str, role: str, password: str) -> None:
        import re

        problems = []
        if not re.fullmatch(NAME_PATTERN, name):
            problems.append(f"user name {name!r}: 2-32 lower-case letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            problems.append(f"role {role!r}: one of {', '.join(ROLES)}")
        if len(password) < 12:
            problems.append("password: at least 12 characters")
        if problems:
            raise ConsoleError("; ".join(problems))
        with self.lock:
            users = self.users()
            users[name] = {"role": role, "hash": self.hasher.hash(password)}
            _write_json(self.dir / "users.json", users)

    # -- login with throttling
    def locked_until(self, name: str, now: float | None = None) -> float | None:
        entry = _read_json(self.dir / "lockout.json").get(name)
        now = time.time() if now is None else now
        if entry and entry.get("locked_until", 0) > now:
            return entry["locked_until"]
        return None

    def login(self, name: str, password: str, now: float | None = None) -> tuple[str, Session] | None:
        """(cookie token, session), or None (wrong name, wrong password, or locked: the caller cannot tell
        which, and a locked account is refused even with the right password)."""
        now = time.time() if now is None else now
        with self.lock:
            lockout = _read_json(self.dir / "lockout.json")
            entry = lockout.get(name, {"failures": 0, "locked_until": 0})
            if entry.get("locked_until", 0) > now:
                return None
            user = self.users().get(name)
            ok = False
            if user is not None:
                try:
                    ok = self.hasher.verify(user["hash"], password)
                except (VerifyMismatchError, VerificationError, InvalidHashError):
                    ok = False
            else:
                self.hasher.hash(password)   # same cost as a real check: no user enumeration by timing
            if not ok:
                entry["failures"] = entry.get("failures", 0) + 1
                if entry["failures"] >= MAX_FAILURES:
                    entry["locked_until"] = now + LOCK_SECONDS
                    entry["failures"] = 0
                lockout[name] = entry
                _write_json(self.dir / "lockout.json", lockout)
                return None
            lockout.pop(name, None)
            _write_json(self.dir / "lockout.json", lockout)
            session = Session(name, user["role"], secrets.token_urlsafe(32), now + SESSION_SECONDS)
            token = secrets.token_urlsafe(32)
            self.sessions[token] = session
            return token, session

    def session(self, token: str | None, now: float | None = None) -> Session | None:
        if not token:
            return None
        s = self.sessions.get(token)
        if s is None or s.expires < (time.time() if now is None else now):
            self.sessions.pop(token, None)
            return None
        return s

    def logout(self, token: str | None) -> None:
        self.sessions.pop(token or "", None)

    # -- the audit log
    def record(self, user: str, action: str, detail: str = "", client: str = "") -> None:
        line = json.dumps({"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "user": user,
                           "action": action, "detail": detail, "client": client}, ensure_ascii=False)
        self.dir.mkdir(parents=True, exist_ok=True)
        with self.lock, open(self.dir / "audit.log", "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def audit_log(self, limit: int = 200) -> list[dict]:
        try:
            lines = (self.dir / "audit.log").read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(x) for x in lines[-limit:]][::-1]
