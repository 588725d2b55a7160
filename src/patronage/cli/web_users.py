"""`patronage user create` (staff sign-in for the web app) and `patronage portal code`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from patronage.cli.common import DbOption, cli_errors, console
from patronage.cli.operations import database

user_app = typer.Typer(help="Staff users of the web app.", no_args_is_help=True)
portal_app = typer.Typer(help="The member portal.", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@user_app.command("create")
def create_user(
    username: Annotated[str, typer.Option("--username", help="Sign-in name.")],
    role: Annotated[str, typer.Option("--role", help="admin, staff or analyst.")] = "staff",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Create a staff user who signs in to the web app (prompts for the password)."""
    from patronage.services.staff_users import create_staff_user
    from patronage.storage.uow import UnitOfWork

    password = _read_password(password_stdin)
    with cli_errors(), database(db, prepare=True) as engine:
        user = create_staff_user(UnitOfWork(engine), username, password, role)
    console.print(f"user {user.username} created (role {user.role})")


@portal_app.command("code")
def portal_code(
    member: Annotated[int, typer.Option("--member", min=1, help="Member id.")],
    db: DbOption = None,
) -> None:
    """Print a one-time portal sign-in code for a member (valid 10 minutes)."""
    from patronage.services.portal_codes import issue_portal_code
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        code = issue_portal_code(UnitOfWork(engine), member)
    console.print(f"portal code for member {member}: [bold]{code}[/bold] (valid 10 minutes)")
