"""Effective settings, resolved the way the program that reads them does (pure, tested offline).

A setting can live in many places: a main file, drop-in directories in several trees, include
directives, module arguments that override a configuration file. The fact script sends every
such file as it is (`--- PATH` headers); the functions here apply each program's own rules of
order and precedence, so a value planted in a drop-in, an included file or a PAM argument is
judged as the program would use it, and a file nobody reads is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

FILE_HEADER = re.compile(r"^--- (/\S*)$")


def split_by_header(lines, header: re.Pattern) -> dict[str, list[str]]:
    """Lines under each header (the pattern's first group names it), in the order sent; lines
    before the first header belong to none. The fact script's sections and files both use it."""
    parts: dict[str, list[str]] = {}
    current = None
    for line in lines:
        m = header.match(line)
        if m:
            current = m.group(1)
            parts[current] = []
        elif current is not None:
            parts[current].append(line)
    return parts


def split_files(lines: list[str]) -> dict[str, list[str]]:
    """`--- PATH` headers followed by that file's lines -> {path: lines}, in the order sent."""
    return split_by_header(lines, FILE_HEADER)


# ------------------------------------------------------------------------------ systemd drop-ins

SYSTEMD_TREES = ("/etc/systemd", "/run/systemd", "/usr/local/lib/systemd", "/usr/lib/systemd", "/lib/systemd")


def systemd_config_order(files: dict[str, list[str]], name: str) -> list[str]:
    """The files systemd reads for `name` (e.g. journald.conf), in the order it reads them.

    The main file is the first of /etc, /run, /usr/local/lib, /usr/lib that exists; then every
    `name.d/*.conf` drop-in sorted by file name across all trees, where a file name in an
    earlier tree hides the same name in a later one (systemd.unit(5), "drop-in"). Later files
    override earlier ones."""
    main = next((f"{tree}/{name}" for tree in SYSTEMD_TREES if f"{tree}/{name}" in files), None)
    dropins: dict[str, str] = {}
    for tree in reversed(SYSTEMD_TREES):  # earlier trees win: assign them last
        prefix = f"{tree}/{name}.d/"
        for path in files:
            if path.startswith(prefix) and path.endswith(".conf") and "/" not in path[len(prefix):]:
                dropins[path[len(prefix):]] = path
    return ([main] if main else []) + [dropins[n] for n in sorted(dropins)]


def systemd_settings(files: dict[str, list[str]], name: str, section: str) -> dict[str, tuple[str, str]]:
    """key (lower case) -> (value, file that set it) in `[section]`, last assignment wins."""
    out: dict[str, tuple[str, str]] = {}
    for path in systemd_config_order(files, name):
        current = None
        for raw in files[path]:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                current = line[1:-1].strip()
                continue
            if current == section and "=" in line:
                key, _, value = line.partition("=")
                out[key.strip().lower()] = (value.strip(), path)
    return out


# ----------------------------------------------------------------------------- key = value files

def last_wins(files: dict[str, list[str]], order: list[str], sep: str = "=") -> dict[str, tuple[str, str]]:
    """key (lower case) -> (value, file) over `order`, a later assignment overriding an earlier
    one (libpwquality, pam_faillock and shadow's getdef all keep the last value they read)."""
    out: dict[str, tuple[str, str]] = {}
    for path in order:
        for raw in files.get(path, []):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if sep == "=" and "=" in line:
                key, _, value = line.partition("=")
            elif sep == "=":
                key, value = line, ""  # a bare flag such as `enforce_for_root` or `silent`
            else:
                key, _, value = line.partition(" ") if " " in line else line.partition("\t")
            out[key.strip().lower()] = (value.strip(), path)
    return out


def dropin_order(files: dict[str, list[str]], main: str, directory: str, suffix: str = ".conf") -> list[str]:
    """A main file then `directory/*suffix` in file-name order (libpwquality's pwquality.conf.d)."""
    dropins = sorted(p for p in files if p.startswith(directory.rstrip("/") + "/") and p.endswith(suffix))
    return ([main] if main in files else []) + dropins


# ------------------------------------------------------------------------------------ PAM stacks

@dataclass(frozen=True)
class PamRule:
    type: str             # auth, account, password, session
    control: str          # required, requisite, sufficient, optional, [value=action ...]
    module: str           # module file name, e.g. pam_faillock.so
    args: tuple[str, ...]
    source: str           # file it came from

    def arg(self, name: str) -> str | None:
        """`name=value` argument's value, '' for a bare flag, None when absent."""
        for a in self.args:
            key, eq, value = a.partition("=")
            if key == name:
                return value if eq else ""
        return None


PAM_TYPES = ("auth", "account", "password", "session")
PAM_DIRS = ("/etc/pam.d", "/usr/lib/pam.d", "/lib/pam.d")


def _pam_tokens(line: str) -> list[str]:
    """A PAM line's fields; a bracketed control `[a=b c=d]` stays one field."""
    m = re.match(r"^\s*(-?\w+)\s+(\[[^\]]*\]|\S+)\s*(.*)$", line)
    if not m:
        return line.split()
    return [m.group(1), m.group(2), *m.group(3).split()]


def _pam_service_file(files: dict[str, list[str]], service: str) -> str | None:
    if service.startswith("/"):
        return service if service in files else None
    return next((f"{d}/{service}" for d in PAM_DIRS if f"{d}/{service}" in files), None)


def pam_stack(files: dict[str, list[str]], service: str, pam_type: str, _depth: int = 0) -> list[PamRule] | None:
    """The rules of `pam_type` that `service` runs, includes and substacks expanded in place, as
    libpam builds the stack (/etc/pam.d first, then the vendor directory; `other` when a service
    has no file). None when neither the service nor `other` exists."""
    path = _pam_service_file(files, service) or (None if _depth else _pam_service_file(files, "other"))
    if path is None or _depth > 10:
        return None
    out: list[PamRule] = []
    for raw in _joined(files[path]):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = _pam_tokens(line)
        if fields[0] == "@include" and len(fields) > 1:
            out += pam_stack(files, fields[1], pam_type, _depth + 1) or []
            continue
        if len(fields) < 3 or fields[0].lstrip("-").lower() != pam_type:
            continue
        control, module = fields[1], fields[2]
        if control in ("include", "substack"):
            out += pam_stack(files, module, pam_type, _depth + 1) or []
            continue
        out.append(PamRule(pam_type, control, PurePosixPath(module).name, tuple(fields[3:]), path))
    return out


def _joined(lines: list[str]) -> list[str]:
    """PAM allows a rule to continue on the next line after a backslash."""
    out, pending = [], ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
        else:
            out.append(pending + line)
            pending = ""
    return out + ([pending] if pending else [])


def modules_called(rules: list[PamRule] | None, module: str) -> list[PamRule]:
    return [r for r in rules or [] if r.module == module]


# --------------------------------------------------------------------------------- sudoers

def sudoers_files(files: dict[str, list[str]]) -> list[str]:
    """The sudoers files sudo reads: /etc/sudoers, then each `#include`/`@include` file and
    every file of an `#includedir`/`@includedir` without a dot or a trailing ~ in its name."""
    order: list[str] = []

    def visit(path: str, depth: int) -> None:
        if path not in files or path in order or depth > 8:
            return
        order.append(path)
        for line in files[path]:
            m = re.match(r"^\s*[#@](include|includedir)\s+(\S+)", line)
            if not m:
                continue
            if m.group(1) == "include":
                visit(m.group(2), depth + 1)
            else:
                d = m.group(2).rstrip("/") + "/"
                for p in sorted(p for p in files if p.startswith(d) and "/" not in p[len(d):]):
                    name = p[len(d):]
                    if "." not in name and not name.endswith("~"):
                        visit(p, depth + 1)
    visit("/etc/sudoers", 0)
    return order


# --------------------------------------------------------------------------------- nginx

def nginx_statements(text: str) -> list[list[str]]:
    """The statements of an nginx configuration file as nginx tokenises it: words separated by
    blanks, quoted strings kept whole, `#` comments dropped, each statement ended by `;`, `{`
    or `}` (so several directives on one line, or one spread over lines, are each found)."""
    statements: list[list[str]] = []
    words: list[str] = []
    word: str | None = None  # None: between words; "" is an empty quoted word
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and i + 1 < len(text):
                i += 1
                word = (word or "") + text[i]
            elif ch == quote:
                quote = ""
            else:
                word = (word or "") + ch
        elif ch in "'\"" and word is None:
            quote, word = ch, ""
        elif ch == "#" and word is None:
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif ch.isspace() or ch in ";{}":
            if word is not None:
                words.append(word)
                word = None
            if ch in ";{}" and words:
                statements.append(words)
                words = []
        else:
            word = (word or "") + ch
        i += 1
    if word is not None:
        words.append(word)
    if words:
        statements.append(words)
    return statements


def nginx_directives(files: dict[str, list[str]], name: str) -> list[tuple[str, list[str]]]:
    """(file, arguments) of every `name` directive in the files `nginx -T` printed."""
    return [(path, words[1:]) for path, lines in files.items()
            for words in nginx_statements("\n".join(lines)) if words[0] == name]


# ----------------------------------------------------------------------------- MariaDB / MySQL

MYSQL_ROOTS = ("/etc/my.cnf", "/etc/mysql/my.cnf")       # read in this order (~/.my.cnf is a client's)
MYSQL_SERVER_GROUPS = ("mysqld", "server", "mariadb", "mariadbd", "mysqld_safe")


def mysql_options(files: dict[str, list[str]]) -> dict[str, tuple[str, str]]:
    """The server's options from its option files as the server reads them when no
    my_print_defaults is there to ask: /etc/my.cnf then /etc/mysql/my.cnf, each `!include`
    file and every .cnf of an `!includedir` in name order, where they stand; only the server's
    groups; a later value wins. Names are normalised (`_` is `-`, a `loose-` prefix dropped)."""
    out: dict[str, tuple[str, str]] = {}
    seen: set[str] = set()

    def read(path: str, depth: int) -> None:
        if path not in files or path in seen or depth > 8:
            return
        seen.add(path)
        group = None
        for raw in files[path]:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            m = re.match(r"^!include(dir)?\s+(\S+)", line)
            if m:
                if m.group(1):
                    d = m.group(2).rstrip("/") + "/"
                    for p in sorted(p for p in files if p.startswith(d) and "/" not in p[len(d):] and p.endswith(".cnf")):
                        read(p, depth + 1)
                else:
                    read(m.group(2), depth + 1)
                continue
            if line.startswith("[") and line.endswith("]"):
                group = line[1:-1].strip().lower()
                continue
            if group not in MYSQL_SERVER_GROUPS:
                continue
            key, eq, value = line.partition("=")
            name = key.strip().lower().replace("_", "-")
            name = name[len("loose-"):] if name.startswith("loose-") else name
            out[name] = (value.split("#", 1)[0].strip().strip("'\"") if eq else "", path)

    for root in MYSQL_ROOTS:
        read(root, 0)
    return out
