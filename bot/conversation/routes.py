"""Feature-owned routes: each handler module declares, in one `Feature` at its end, its
commands, button actions, typed-text steps, reply-keyboard labels and who may use them; the
core and the staff desk only include the features.

Every command, button action, step and label has one owner: `include` and `check_unique`
refuse a second claim at start-up, naming both features, so a new feature cannot quietly
take over another's buttons.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from bot.conversation.actions import Action
from bot.conversation.buttons import Press
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from domain.models import ChatState

Role = Literal["anyone", "member", "staff", "admin"]
"""Who may use a feature: anyone (people who have not joined too), a member, a cashier (or an
admin), an admin."""

Who = TypeVar("Who", contravariant=True)  # what handlers are told of the person
H = TypeVar("H", covariant=True)

Handler = Callable[[Context, Incoming, Who], Awaitable[list[Action]]]
PressHandler = Callable[[Context, Incoming, Who, Press], Awaitable[list[Action]]]
StepHandler = Callable[[Context, Incoming, Who, ChatState], Awaitable[list[Action]]]

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")  # what Telegram accepts as a command's name


class RouteClash(ValueError):
    """Two features claim the same route, or a route that can never be reached."""


@dataclass(frozen=True)
class Feature(Generic[Who]):
    """One handler module's routes and the role allowed to use them.

    `buttons` are keyed by the action that starts the button data; `steps` by the name of
    the typed-text step remembered in the database; `labels` by the label key (labels.j2)
    of a reply-keyboard button; `contact` answers a shared contact card.
    """

    name: str
    role: Role
    commands: Mapping[str, Handler[Who]] = field(default_factory=dict)
    buttons: Mapping[str, PressHandler[Who]] = field(default_factory=dict)
    steps: Mapping[str, StepHandler[Who]] = field(default_factory=dict)
    labels: Mapping[str, Handler[Who]] = field(default_factory=dict)
    contact: Handler[Who] | None = None

    def claims(self) -> Iterator[tuple[str, str]]:
        """(kind, code) of every route this feature owns."""
        yield from (("command", name) for name in self.commands)
        yield from (("button action", action) for action in self.buttons)
        yield from (("step", step) for step in self.steps)
        yield from (("label", key) for key in self.labels)
        if self.contact is not None:
            yield "contact", "contact"


@dataclass(frozen=True)
class Route(Generic[H]):
    """A handler and the role its feature allows."""

    role: Role
    handler: H


@dataclass(frozen=True)
class Routes(Generic[Who]):
    """Several features' routes, one table per kind."""

    features: tuple[Feature[Who], ...]
    commands: Mapping[str, Route[Handler[Who]]]
    buttons: Mapping[str, Route[PressHandler[Who]]]
    steps: Mapping[str, Route[StepHandler[Who]]]
    labels: Mapping[str, Route[Handler[Who]]]
    contact: Route[Handler[Who]] | None


def include(roles: Collection[Role], *features: Feature[Who]) -> Routes[Who]:
    """The features' routes; a feature for another role, or a route claimed twice, is
    refused with RouteClash."""
    for feature in features:
        if feature.role not in roles:
            raise RouteClash(
                f"feature {feature.name!r} is for {feature.role!r}, included among {sorted(roles)}"
            )
    check_unique(features)
    return Routes(
        features=features,
        commands={name: Route(f.role, h) for f in features for name, h in f.commands.items()},
        buttons={code: Route(f.role, h) for f in features for code, h in f.buttons.items()},
        steps={step: Route(f.role, h) for f in features for step, h in f.steps.items()},
        labels={key: Route(f.role, h) for f in features for key, h in f.labels.items()},
        contact=next((Route(f.role, f.contact) for f in features if f.contact), None),
    )


def check_unique(features: Iterable[Feature[Any]]) -> None:
    """Refuse (RouteClash) two features claiming one route, a command Telegram would not
    accept, and a button action that could not be read back from button data."""
    owners: dict[tuple[str, str], Feature[Any]] = {}
    for feature in features:
        for kind, code in feature.claims():
            first = owners.setdefault((kind, code), feature)
            if first is not feature:
                raise RouteClash(
                    f"{kind} {code!r} is claimed by both feature {first.name!r} "
                    f"and feature {feature.name!r}"
                )
            if kind == "command" and not _COMMAND.fullmatch(code):
                raise RouteClash(
                    f"command {code!r} of feature {feature.name!r}: use 1-32 of a-z, 0-9 and _"
                )
            if kind == "button action" and (not code or ":" in code):
                raise RouteClash(
                    f"button action {code!r} of feature {feature.name!r}: "
                    f"give it a name without ':'"
                )
