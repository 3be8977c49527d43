"""«Уведомления»: paper notices and their couriers.

Everybody who may open the dashboard sees the delivery figures and a courier's day on a map; those who may
edit debtors generate notices and hand them to couriers; printing (personal data in bulk) needs the export
permission, and courier accounts (their secret links) the users' administrator's.

Every change goes through debtors/notices.py and debtors/couriers.py, the services the CLI and the API use.
The map is an Altair chart of longitude against latitude: no tile server, so it works offline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import altair as alt
import streamlit as st

from access.accounts import UserInfo
from access.rules import Permission
from dashboard.context import DashboardContext
from dashboard.labels import count_of, day, money
from db.debtor_list import Building, buildings, filter_choices
from debtors.couriers import (
    CourierAccount,
    add_courier,
    courier_link,
    disable_courier,
    list_couriers,
    new_link,
)
from debtors.field_reports import FieldError
from debtors.field_rules import (
    METHOD_LABELS,
    NOTICE_KIND_LABELS,
    NOTICE_STATE_LABELS,
    DeliveryMethod,
    NoticeKind,
    NoticeState,
)
from debtors.notices import (
    DeliveryFigures,
    DeliveryPoint,
    TrackPoint,
    assign_notices,
    courier_day,
    delivery_figures,
    generate_notices,
    printable,
)
from dialer.bootstrap import api_base_url, notice_rules
from dialer.errors import UpravDolgError

FLASH_KEY = "notices_flash"
LINK_KEY = "notices_courier_link"
PRINT_KEY = "notices_print_prepared"  # not a widget key: those hold the widget's value
ALL_OPEN = 0  # the printing scope "every open notice" (courier ids start at 1)
MAP_WIDTH = 720
MAP_HEIGHT = 480
METRES_PER_DEGREE = 111_320.0  # of latitude (and of longitude at the equator)
MIN_MAP_SPAN_M = 300.0  # a single point still shows its street
OSM_ZOOM = 18
TRACK_COLOUR = "#8a8a8a"
METHOD_COLOURS = {
    DeliveryMethod.PERSONAL: "#2e7d32",
    DeliveryMethod.MAILBOX: "#1565c0",
    DeliveryMethod.REFUSED: "#c62828",
    DeliveryMethod.NOBODY_HOME: "#ef6c00",
}


def render(ctx: DashboardContext, user: UserInfo) -> None:
    st.header("Уведомления")
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)
    with ctx.storage.sessions() as session:
        figures = delivery_figures(session, ctx.organisation_id)
        couriers = list_couriers(session, ctx.organisation_id)
    _figures(figures)
    if user.can(Permission.EDIT_DEBTORS):
        _generate(ctx)
        _assign(ctx, couriers)
    if user.can(Permission.EXPORT):
        _printing(ctx, couriers)
    _courier_day(ctx, couriers)
    if user.can(Permission.ADMIN_USERS):
        _couriers(ctx, couriers)


def _state_label(code: str) -> str:
    try:
        return NOTICE_STATE_LABELS[NoticeState(code)]
    except ValueError:
        return code


def _kind_label(code: str) -> str:
    try:
        return NOTICE_KIND_LABELS[NoticeKind(code)]
    except ValueError:
        return code


def method_label(code: str | None) -> str:
    if not code:
        return "—"
    try:
        return METHOD_LABELS[DeliveryMethod(code)]
    except ValueError:
        return code


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _figures(figures: DeliveryFigures) -> None:
    by_state = {state: 0 for state in NoticeState}
    for (_kind, state), count in figures.by_kind_state.items():
        if state in by_state:
            by_state[NoticeState(state)] += count
    columns = st.columns(len(by_state))
    for column, (state, count) in zip(columns, by_state.items(), strict=True):
        column.metric(_capital(NOTICE_STATE_LABELS[state]), count)
    if not figures.by_kind_state:
        st.info("Уведомлений пока нет.")
    else:
        st.markdown("**Уведомления по видам**")
        kinds = [k.value for k in NoticeKind]
        kinds += sorted({k for k, _s in figures.by_kind_state} - set(kinds))
        states = [s.value for s in NoticeState]
        states += sorted({s for _k, s in figures.by_kind_state} - set(states))
        st.dataframe(
            [
                {
                    "Вид": _kind_label(kind),
                    **{_state_label(s): figures.by_kind_state.get((kind, s), 0) for s in states},
                    "Всего": sum(figures.by_kind_state.get((kind, s), 0) for s in states),
                }
                for kind in kinds
            ],
            hide_index=True,
            width="stretch",
            key="notices_by_kind",
        )
    left, right = st.columns(2)
    with left:
        st.markdown("**Вручено по способам**")
        if figures.by_method:
            st.dataframe(
                [
                    {"Способ": method_label(method), "Вручено": count}
                    for method, count in sorted(figures.by_method.items(), key=lambda mc: -mc[1])
                ],
                hide_index=True,
                width="stretch",
                key="notices_by_method",
            )
        else:
            st.write("Врученных уведомлений нет.")
    with right:
        st.markdown("**По курьерам**")
        if figures.by_courier:
            st.dataframe(
                [
                    {"Курьер": name, "На руках": on_hand, "Вручено": delivered, "Визитов": visits}
                    for name, on_hand, delivered, visits in figures.by_courier
                ],
                hide_index=True,
                width="stretch",
                key="notices_by_courier",
            )
        else:
            st.write("Курьеров нет.")


def _generate(ctx: DashboardContext) -> None:
    rules = notice_rules(ctx.settings)
    st.subheader("Формирование")
    st.caption(
        f"Первичное — должнику «В работе» с долгом от {money(rules.primary_min_debt)} "
        f"за {rules.primary_min_months} мес. и больше; повторное — через {rules.secondary_after_days} дн. "
        "после вручения первичного, если оплаты не было. Повторный запуск не создаёт дублей."
    )
    if st.button("Сформировать уведомления", key="notices_generate"):
        with ctx.storage.sessions.begin() as session:
            made = generate_notices(
                session,
                ctx.organisation_id,
                now=ctx.now(),
                timezone=ctx.settings.organisation.timezone,
                rules=rules,
            )
        st.session_state[FLASH_KEY] = (
            f"Создано уведомлений: первичных {made.primary}, повторных {made.secondary}."
            if made.total
            else "Новых уведомлений нет: все, кому они положены по правилам, их уже получили."
        )
        st.rerun()


def _assign(ctx: DashboardContext, couriers: Sequence[CourierAccount]) -> None:
    st.subheader("Передача курьеру")
    active = {c.id: c.name for c in couriers if c.active}
    if not active:
        st.info("Активных курьеров нет: их добавляет администратор в разделе «Курьеры».")
        return
    with ctx.storage.sessions() as session:
        choices = filter_choices(session, ctx.organisation_id)
    c1, c2, c3 = st.columns(3)
    courier_id = c1.selectbox("Курьер", list(active), format_func=active.__getitem__, key="assign_courier")
    districts = c2.multiselect(
        "Районы",
        choices.districts,
        format_func=lambda d: d or "без района",
        placeholder="выберите район",
        key="assign_districts",
    )
    picked: list[Building] = []
    if districts:
        with ctx.storage.sessions() as session:
            options = buildings(session, ctx.organisation_id, districts)
        picked = c3.multiselect(
            "Дома",
            options,
            format_func=lambda b: f"{b.label or 'адрес не разобран'} ({b.district or 'без района'})",
            placeholder="все дома выбранных районов",
            key="assign_buildings",
        )
        picked = [b for b in picked if b.district in districts]
    reassign = st.checkbox(
        "Забрать у других курьеров то, что они ещё не вручили", key="assign_reassign", value=False
    )
    if st.button("Передать курьеру", key="notices_assign"):
        if courier_id is None or not districts:
            st.error("Выберите курьера и хотя бы один район.")
            return
        try:
            with ctx.storage.sessions.begin() as session:
                assigned = assign_notices(
                    session,
                    ctx.organisation_id,
                    courier_id,
                    districts=() if picked else districts,  # houses narrow their districts
                    buildings=picked,
                    reassign=reassign,
                    now=ctx.now(),
                )
        except FieldError as exc:
            st.error(f"Уведомления не переданы: {exc.message}")
            return
        st.session_state[FLASH_KEY] = (
            f"Курьеру {active[courier_id]} передано "
            f"{count_of(assigned, 'уведомление', 'уведомления', 'уведомлений')}."
            if assigned
            else "Передавать нечего: в выбранных домах нет уведомлений, не выданных курьерам."
        )
        st.rerun()


def _printing(ctx: DashboardContext, couriers: Sequence[CourierAccount]) -> None:
    st.subheader("Печать")
    st.caption(
        "Уведомления — по одному на страницу, в порядке обхода (район, улица, дом, квартира); маршрутный "
        "лист курьера — те же уведомления в том же порядке. Напечатанные отмечаются в базе."
    )
    names = {c.id: c.name + ("" if c.active else " (отключён)") for c in couriers}
    c1, c2 = st.columns([2, 1])
    scope = c1.selectbox(
        "Что печатать",
        [ALL_OPEN, *names],
        format_func=lambda i: "все невручённые уведомления" if i == ALL_OPEN else f"курьер {names[i]}",
        key="print_scope",
    )
    unprinted = c2.checkbox("Только ещё не напечатанные", key="print_unprinted", value=False)
    signature = (scope, unprinted)
    prepared = st.session_state.get(PRINT_KEY)
    if prepared is not None and prepared["signature"] != signature:
        st.session_state.pop(PRINT_KEY, None)
    if st.button("Подготовить PDF", key="notices_print"):
        _prepare_pdf(
            ctx, scope if scope != ALL_OPEN else None, names, unprinted=unprinted, signature=signature
        )
    prepared = st.session_state.get(PRINT_KEY)
    if prepared is None:
        return
    stamp = f"{ctx.now().astimezone(ctx.zone):%Y-%m-%d-%H%M}"
    d1, d2 = st.columns(2)
    d1.download_button(
        f"Скачать уведомления ({prepared['count']} шт.)",
        data=prepared["notices"],
        file_name=f"уведомления-{stamp}.pdf",
        mime="application/pdf",
        key="print_notices_download",
    )
    if prepared["route"] is not None:
        d2.download_button(
            "Скачать маршрутный лист",
            data=prepared["route"],
            file_name=f"маршрутный-лист-{stamp}.pdf",
            mime="application/pdf",
            key="print_route_download",
        )


def _prepare_pdf(
    ctx: DashboardContext,
    courier_id: int | None,
    names: dict[int, str],
    *,
    unprinted: bool,
    signature: tuple[int, bool],
) -> None:
    """Builds the PDFs in the transaction that marks the notices printed: a failed PDF marks nothing."""
    st.session_state.pop(PRINT_KEY, None)
    try:
        from debtors.notice_pdf import (  # noqa: PLC0415 (the PDF library loads only to print)
            NoticeLetterhead,
            render_notices,
            render_route_sheet,
        )
    except ImportError as exc:
        st.error(f"Печать недоступна: {exc}")
        return
    now = ctx.now()
    timezone = ctx.settings.organisation.timezone
    letterhead = NoticeLetterhead(
        organisation=ctx.settings.organisation.name,
        how_to_pay=ctx.settings.notices.how_to_pay,
        restriction_days=ctx.settings.restrictions.days_after_delivery,
        printed_at=now,
        timezone=timezone,
    )
    try:
        with ctx.storage.sessions.begin() as session:
            notices = printable(
                session,
                ctx.organisation_id,
                courier_id=courier_id,
                unprinted_only=unprinted,
                now=now,
                timezone=timezone,
            )
            if not notices:
                st.info("Печатать нечего: подходящих уведомлений нет.")
                return
            document = render_notices(notices, letterhead)
            route = None
            if courier_id is not None:
                today = now.astimezone(ZoneInfo(timezone)).date()
                route = render_route_sheet(names[courier_id], today, notices, letterhead)
    except UpravDolgError as exc:
        st.error(f"PDF не собран: {exc}")
        return
    st.session_state[PRINT_KEY] = {
        "notices": document,
        "route": route,
        "count": len(notices),
        "signature": signature,
    }


def _courier_day(ctx: DashboardContext, couriers: Sequence[CourierAccount]) -> None:
    st.subheader("Маршрут курьера за день")
    if not couriers:
        st.info("Курьеров пока нет.")
        return
    names = {c.id: c.name for c in couriers}
    c1, c2 = st.columns(2)
    courier_id = c1.selectbox("Курьер", list(names), format_func=names.__getitem__, key="track_courier")
    chosen = c2.date_input(
        "День", value=ctx.now().astimezone(ctx.zone).date(), format="DD.MM.YYYY", key="track_day"
    )
    if courier_id is None or not isinstance(chosen, date):
        return
    with ctx.storage.sessions() as session:
        track, reports = courier_day(
            session, ctx.organisation_id, courier_id, chosen, ctx.settings.organisation.timezone
        )
    if track or any(_located(r) for r in reports):
        st.altair_chart(track_map(track, reports, ctx.zone), width="content", key="track_map")
        st.caption("Линия — путь по координатам телефона, точки — отчёты о вручении (цвет — способ).")
    else:
        st.info(f"За {day(chosen)} телефон курьера {names[courier_id]} не присылал координат.")
    if not reports:
        st.write("Отчётов о вручении за этот день нет.")
        return
    st.dataframe(
        [
            {
                "Время": f"{r.at.astimezone(ctx.zone):%H:%M:%S}",
                "Адрес": r.address,
                "Лицевой счёт": r.account,
                "Способ": method_label(r.method),
                "Попыток": r.tries,
                "На карте": osm_link(r.latitude, r.longitude) if _located(r) else None,
            }
            for r in reports
        ],
        column_config={"На карте": st.column_config.LinkColumn("На карте", display_text="на карте")},
        hide_index=True,
        width="stretch",
        key="track_reports",
    )


def _located(report: DeliveryPoint) -> bool:
    return report.latitude is not None and report.longitude is not None


def osm_link(latitude: float | None, longitude: float | None) -> str:
    """The point on openstreetmap.org with a marker (opened by the supervisor's browser, not the server)."""
    return (
        f"https://www.openstreetmap.org/?mlat={latitude:.6f}&mlon={longitude:.6f}"
        f"#map={OSM_ZOOM}/{latitude:.6f}/{longitude:.6f}"
    )


def map_domains(
    points: Sequence[tuple[float, float]], width: int, height: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Longitude and latitude ranges around the points with one scale in metres on both axes (a degree of
    longitude is cos(latitude) of a degree of latitude), so streets keep their shape."""
    lons = [lon for lon, _lat in points]
    lats = [lat for _lon, lat in points]
    centre_lon, centre_lat = (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2
    squeeze = max(math.cos(math.radians(centre_lat)), 0.01)
    span_x = max((max(lons) - min(lons)) * squeeze * METRES_PER_DEGREE * 1.15, MIN_MAP_SPAN_M)
    span_y = max((max(lats) - min(lats)) * METRES_PER_DEGREE * 1.15, MIN_MAP_SPAN_M)
    per_pixel = max(span_x / width, span_y / height)
    half_lon = per_pixel * width / 2 / (squeeze * METRES_PER_DEGREE)
    half_lat = per_pixel * height / 2 / METRES_PER_DEGREE
    return (
        (centre_lon - half_lon, centre_lon + half_lon),
        (centre_lat - half_lat, centre_lat + half_lat),
    )


def track_map(
    track: Sequence[TrackPoint], reports: Sequence[DeliveryPoint], zone: ZoneInfo
) -> alt.LayerChart:
    """The track as a line in time order and the reports as points coloured by method, with tooltips."""
    located = [r for r in reports if _located(r)]
    points = [(p.longitude, p.latitude) for p in track]
    points += [
        (r.longitude, r.latitude) for r in located if r.longitude is not None and r.latitude is not None
    ]
    lon_domain, lat_domain = map_domains(points, MAP_WIDTH, MAP_HEIGHT)
    x = alt.X("lon:Q", title="долгота", scale=alt.Scale(domain=list(lon_domain), zero=False, nice=False))
    y = alt.Y("lat:Q", title="широта", scale=alt.Scale(domain=list(lat_domain), zero=False, nice=False))
    path: list[dict[str, Any]] = [
        {
            "seq": i,
            "lon": p.longitude,
            "lat": p.latitude,
            "time": f"{p.at.astimezone(zone):%H:%M:%S}",
            "accuracy": p.accuracy_m,
        }
        for i, p in enumerate(track)
    ]
    stops: list[dict[str, Any]] = [
        {
            "lon": r.longitude,
            "lat": r.latitude,
            "time": f"{r.at.astimezone(zone):%H:%M:%S}",
            "address": r.address,
            "account": r.account,
            "method": method_label(r.method),
            "tries": r.tries,
        }
        for r in located
    ]
    line = (
        alt.Chart(alt.InlineData(values=path))
        .mark_line(point=alt.OverlayMarkDef(size=12, color=TRACK_COLOUR), color=TRACK_COLOUR, clip=True)
        .encode(
            x=x,
            y=y,
            order=alt.Order("seq:Q"),
            tooltip=[alt.Tooltip("time:N", title="время"), alt.Tooltip("accuracy:Q", title="точность, м")],
        )
    )
    labels = [METHOD_LABELS[m] for m in METHOD_COLOURS]
    dots = (
        alt.Chart(alt.InlineData(values=stops))
        .mark_circle(size=140, opacity=0.9, clip=True)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "method:N",
                title="Способ",
                scale=alt.Scale(domain=labels, range=list(METHOD_COLOURS.values())),
            ),
            tooltip=[
                alt.Tooltip("time:N", title="время"),
                alt.Tooltip("address:N", title="адрес"),
                alt.Tooltip("account:N", title="лицевой счёт"),
                alt.Tooltip("method:N", title="способ"),
                alt.Tooltip("tries:Q", title="попыток"),
            ],
        )
    )
    # "pad": the plot area is exactly MAP_WIDTH x MAP_HEIGHT (Streamlit's default "fit" squeezes it to make
    # room for the axes and the legend, which would break the equal scale).
    return alt.LayerChart(
        layer=[line, dots], width=MAP_WIDTH, height=MAP_HEIGHT, autosize=alt.AutoSizeParams(type="pad")
    )


def _couriers(ctx: DashboardContext, couriers: Sequence[CourierAccount]) -> None:
    st.subheader("Курьеры")
    _link_once()
    if couriers:
        st.dataframe(
            [
                {"Курьер": c.name, "Телефон": c.phone, "Состояние": "активен" if c.active else "отключён"}
                for c in couriers
            ],
            hide_index=True,
            width="stretch",
            key="couriers_list",
        )
    base_url = api_base_url(ctx.settings)
    if not ctx.settings.api.public_url:
        st.caption(
            f"Ссылки начинаются с {base_url} (api.address и api.port). Если телефоны курьеров заходят "
            "по другому адресу, задайте его в api.public_url."
        )
    with st.form("courier_add", clear_on_submit=True):
        st.markdown("**Новый курьер**")
        c1, c2 = st.columns(2)
        name = c1.text_input("Имя курьера")
        phone = c2.text_input("Телефон курьера")
        if st.form_submit_button("Добавить курьера"):
            try:
                with ctx.storage.sessions.begin() as session:
                    account, token = add_courier(
                        session, ctx.organisation_id, name, phone=phone, now=ctx.now()
                    )
            except FieldError as exc:
                st.error(f"Курьер не добавлен: {exc.message}")
            else:
                st.session_state[LINK_KEY] = (account.name, courier_link(base_url, token))
                st.rerun()
    active = [c.name for c in couriers if c.active]
    if active:
        _manage(ctx, active, base_url)


def _link_once() -> None:
    """A new courier link, right after it was made: only its hash is stored, so it cannot be shown again."""
    shown = st.session_state.pop(LINK_KEY, None)
    if not shown:
        return
    name, link = shown
    st.success(f"Ссылка для входа курьера {name}:")
    st.code(link, language=None)
    st.warning(
        "Ссылка показывается только один раз: скопируйте её и передайте курьеру сейчас. "
        "Если она потеряется, выдайте новую — старая перестанет работать."
    )


def _manage(ctx: DashboardContext, active: Sequence[str], base_url: str) -> None:
    with st.form("courier_manage"):
        st.markdown("**Ссылка и отключение** (новая ссылка отменяет старую; отключённый курьер не войдёт)")
        target = st.selectbox("Курьер", active, key="courier_target")
        c1, c2 = st.columns(2)
        relink = c1.form_submit_button("Выдать новую ссылку")
        disable = c2.form_submit_button("Отключить курьера")
    if target is None or not (relink or disable):
        return
    try:
        with ctx.storage.sessions.begin() as session:
            if relink:
                token = new_link(session, ctx.organisation_id, target)
            else:
                disable_courier(session, ctx.organisation_id, target, now=ctx.now())
    except FieldError as exc:
        st.error(f"Не сделано: {exc.message}")
        return
    if relink:
        st.session_state[LINK_KEY] = (target, courier_link(base_url, token))
    else:
        st.session_state[FLASH_KEY] = f"Курьер {target} отключён: его ссылка больше не действует."
    st.rerun()
