"""The admin is an ops console (docs/conventions.md §33, §38): money and ledger rows are viewed
there, never edited, and every value is shown the one way ``core/display.py`` says.

``ConsoleAdmin`` (and ``ReadOnlyAdminMixin`` for the read-only part alone) is the base of every
app's admin. Its pages list plain field names; the base shows each through its rule: amounts with
their currency, moments with seconds in Africa/Dakar, enumerations as badges, related rows as
links, phone numbers and IBANs masked unless the reader may see personal data, payloads with
credentials redacted. Writes go through services, from admin actions.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from core import display
from core.staff import iban_for, msisdn_for

# The staff member whose page is being rendered: masking depends on who reads.
_reader: ContextVar[Any] = ContextVar("admin_reader", default=None)

# Fields shown as a badge with their label, wherever they appear.
ENUM_FIELDS = frozenset(
    {"status", "kind", "mode", "outcome", "state", "cause", "from_status", "to_status", "payment_status", "settlement"}
)
SHOWN = "shown__"


def reader() -> Any:
    """The user the current admin page is rendered for (None outside an admin page)."""
    return _reader.get()


def admin_url(obj: models.Model | None, *, site: str = "admin") -> str | None:
    """The change page of ``obj`` in the admin, or None when it has none (never a dead link)."""
    if obj is None or obj.pk is None:
        return None
    opts = obj._meta
    try:
        return reverse(f"{site}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return None


def changelist_url(model: type[models.Model], *, site: str = "admin") -> str | None:
    opts = model._meta
    try:
        return reverse(f"{site}:{opts.app_label}_{opts.model_name}_changelist")
    except NoReverseMatch:
        return None


def link(obj: models.Model | None, text: Any = None) -> SafeString:
    """A link to ``obj``'s admin page showing ``text`` (its ``str`` by default)."""
    if obj is None:
        return format_html("{}", display.EMPTY)
    url = admin_url(obj)
    shown = link_text(obj) if text is None else text
    return format_html('<a href="{}">{}</a>', url, shown) if url else format_html("{}", shown)


def link_text(obj: models.Model) -> str:
    """A short name for a row in a column: a partner's code, else its name when short, else its public id."""
    code = getattr(obj, "code", None)
    if isinstance(code, str) and code:
        return code
    name = str(obj)
    public_id = getattr(obj, "public_id", None)
    return public_id if len(name) > 40 and isinstance(public_id, str) else name


class LabelledChoicesFilter(admin.ChoicesFieldListFilter):
    """An enumeration's filter shows the values' labels, the same as the badges (core/display.py)."""

    def choices(self, changelist: Any) -> Any:
        values = [None, *(value for value, _title in self.field.flatchoices if value is not None)]
        for value, choice in zip(values, super().choices(changelist), strict=False):
            yield choice if value is None else {**choice, "display": display.label(str(value))}


class LabelledValuesFilter(admin.AllValuesFieldListFilter):
    """The same for an enumeration stored without choices (the values found in the table)."""

    def choices(self, changelist: Any) -> Any:
        for choice in super().choices(changelist):
            shown = choice.get("display")
            yield {**choice, "display": display.label(str(shown))} if shown in self.lookup_choices else choice


def field_label(field: models.Field[Any, Any]) -> str:
    return str(field.verbose_name).replace(" minor", "")


class ReadOnlyAdminMixin:
    """No add, change or delete from the admin: view only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ConsoleAdminMixin:
    """Shows every field through its display rule, for the reader of the page."""

    msisdn_fields: tuple[str, ...] = ()  # phone numbers: masked unless the reader may see them
    iban_fields: tuple[str, ...] = ()  # account numbers: the same
    personal_text_fields: tuple[str, ...] = ()  # free text that may hold either (a bill's reference)
    payload_fields: tuple[str, ...] = ()  # text payloads: credentials redacted, personal data masked
    hidden_fields: tuple[str, ...] = ()  # never on a page (secrets, encrypted blobs)

    class Media:
        css = {"all": ("core/console.css",)}

    @property
    def _opts(self) -> Any:
        return getattr(self, "model")._meta  # noqa: B009 - the ModelAdmin it is mixed into has one

    # --- the reader -----------------------------------------------------------------------------

    def _for_reader(self, request: HttpRequest, view: Callable[..., HttpResponse], *args: Any) -> HttpResponse:
        # Admin views answer a TemplateResponse rendered later: render it while the reader is set.
        token = _reader.set(getattr(request, "user", None))
        try:
            response = view(request, *args)
            render = getattr(response, "render", None)
            if render is not None:
                render()
            return response
        finally:
            _reader.reset(token)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        return self._for_reader(request, super().changelist_view, extra_context)  # type: ignore[misc]

    def changeform_view(
        self, request: HttpRequest, object_id: Any = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return self._for_reader(request, super().changeform_view, object_id, form_url, extra_context)  # type: ignore[misc]

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        return self._for_reader(request, super().history_view, object_id, extra_context)  # type: ignore[misc]

    # --- which fields, shown how ----------------------------------------------------------------

    def _shown(self, name: str) -> str:
        """The name under which ``name`` is shown: the field itself, or its display rule."""
        if not isinstance(name, str):
            return name
        try:
            field = self._opts.get_field(name)
        except FieldDoesNotExist:  # a method of the admin or the model: shown as declared
            return name
        special = (
            *self.msisdn_fields,
            *self.iban_fields,
            *self.personal_text_fields,
            *self.payload_fields,
            "needs_review",
        )
        if (
            name in special
            or name in ENUM_FIELDS
            or name.endswith("_minor")
            or field.is_relation
            or isinstance(field, models.DateTimeField | models.JSONField | models.BinaryField | models.URLField)
        ):
            return SHOWN + name
        return name

    def get_list_filter(self, request: HttpRequest) -> Any:
        return [self._filter(item) for item in super().get_list_filter(request)]  # type: ignore[misc]

    def _filter(self, item: Any) -> Any:
        if not isinstance(item, str) or item not in ENUM_FIELDS:
            return item
        field = self._opts.get_field(item)
        return (item, LabelledChoicesFilter if field.choices else LabelledValuesFilter)

    def get_list_display(self, request: HttpRequest) -> Any:
        return [self._shown(name) for name in super().get_list_display(request)]  # type: ignore[misc]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if self.fields:
            names = list(self.fields)
        else:
            names = [
                f.name
                for f in self._opts.get_fields()
                if f.concrete and not f.auto_created and not getattr(f, "many_to_many", False)
            ]
            pk = self._opts.pk
            names = ["id", *names] if pk is not None and pk.auto_created else names
        return [self._shown(n) for n in names if n not in self.hidden_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        declared = getattr(self, "fieldsets", None)
        if not declared:
            return [(None, {"fields": self.get_fields(request, obj)})]
        return [
            (title, {**options, "fields": [self._shown(n) for n in options["fields"] if n not in self.hidden_fields]})
            for title, options in declared
        ]

    def __getattr__(self, name: str) -> Any:
        if not name.startswith(SHOWN):
            raise AttributeError(name)
        field = self._opts.get_field(name.removeprefix(SHOWN))
        return self._renderer(field)

    def _renderer(self, field: Any) -> Callable[[Any], Any]:
        name = field.name
        if name in self.msisdn_fields:
            show: Callable[[Any], Any] = lambda obj: msisdn_for(reader(), getattr(obj, name))  # noqa: E731
        elif name in self.iban_fields:
            show = lambda obj: iban_for(reader(), getattr(obj, name))  # noqa: E731
        elif name in self.personal_text_fields:
            show = lambda obj: display.personal_text(reader(), getattr(obj, name) or "")  # noqa: E731
        elif name == "needs_review":
            show = lambda obj: display.review_mark(obj.needs_review, getattr(obj, "review_reason", ""))  # noqa: E731
        elif name in ENUM_FIELDS:
            show = lambda obj: display.badge(getattr(obj, name))  # noqa: E731
        elif name.endswith("_minor"):
            show = lambda obj: display.amount(getattr(obj, name), getattr(obj, "currency", None))  # noqa: E731
        elif field.is_relation:
            show = lambda obj: link(getattr(obj, name))  # noqa: E731
        elif isinstance(field, models.DateTimeField):
            show = lambda obj: display.moment_html(getattr(obj, name))  # noqa: E731
        elif isinstance(field, models.URLField):  # a partner's or provider's address: text, not a link
            show = lambda obj: getattr(obj, name) or display.EMPTY  # noqa: E731
        else:  # JSON, bytes and text payloads
            show = lambda obj: display.payload_block(getattr(obj, name))  # noqa: E731
        show.short_description = field_label(field)  # type: ignore[attr-defined]
        show.admin_order_field = name  # type: ignore[attr-defined]
        return show


class TransactionColumnsMixin:
    """The amount and status of the row's ledger transaction (``list_select_related`` it)."""

    @admin.display(description=_("amount"), ordering="transaction__amount_minor")
    def amount(self, obj: Any) -> str:
        return display.amount(obj.transaction.amount_minor, obj.transaction.currency)

    @admin.display(description=_("status"), ordering="transaction__status")
    def status(self, obj: Any) -> SafeString:
        return display.badge(obj.transaction.status)


class BatchProgressMixin:
    """A batch's progress bar and per-status counts (its queryset annotated ``count_final`` and
    ``count_<status>`` by the rail's selector), and a link to its items."""

    progress_statuses: tuple[str, ...] = ()
    total_field = "item_count"
    items_changelist = ""  # the items' list, filtered by ``batch``

    @admin.display(description=_("progress"))
    def progress(self, obj: Any) -> SafeString:
        counts = {str(status): getattr(obj, f"count_{status}") for status in self.progress_statuses}
        return display.progress_bar(obj.count_final, getattr(obj, self.total_field), counts)

    @admin.display(description=_("items"))
    def items_link(self, obj: Any) -> SafeString:
        url = reverse(self.items_changelist) + "?" + urlencode({"batch__id__exact": obj.pk})
        return format_html('<a href="{}">{}</a>', url, _("The batch's items"))


class ConsoleAdmin(ConsoleAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """A read-only page of the console; actions call services."""

    show_full_result_count = False
    list_per_page = 50


class ReadOnlyModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class ConsoleInline(ConsoleAdminMixin, ReadOnlyInline):
    """Rows of a page's inline table, shown by the same rules as the page."""


def may_act(request: HttpRequest) -> bool:
    """Staff who may act from the console (operators make requests, supervisors decide them);
    auditors read only (core/staff.py roles)."""
    user = request.user
    return bool(user.has_perm("backoffice.make_request") or user.has_perm("backoffice.decide_request"))


class ActingAdminMixin:
    """Admin actions with ``allowed_permissions=("act",)`` are offered to staff who may act."""

    def has_act_permission(self, request: HttpRequest) -> bool:
        return may_act(request)
