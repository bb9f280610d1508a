"""The private Textual and Rich internals sdtui relies on, each checked by name.

These are the places where public API was not enough (each measured necessary; see the module
named). When a Textual or Rich upgrade moves one, the test named after it fails and says what to
look at, instead of the app misbehaving quietly. The versions checked are pinned in pyproject.
"""

from __future__ import annotations

from rich.color import Color, ColorSystem
from rich.style import Style
from textual.app import App, ComposeResult
from textual.binding import Binding

from sdtui.ui.widgets.footer import Footer


def test_textual_footer_module_keeps_footerkey_footerlabel_keygroup() -> None:
    """sdtui/ui/widgets/footer.py builds Textual's own footer keys from the private module."""
    from textual.widgets import _footer

    for name in ("FooterKey", "FooterLabel", "KeyGroup"):
        assert hasattr(_footer, name), f"textual.widgets._footer.{name} is gone"


async def test_footerkey_reads_its_disabled_flag_from__disabled() -> None:
    """Our footer restyles keys in place by setting FooterKey._disabled (read when clicked)."""
    from textual.widgets._footer import FooterKey

    class KeyApp(App[None]):
        def compose(self) -> ComposeResult:
            yield FooterKey("x", "x", "Thing", "bell", disabled=True)

    app = KeyApp()
    async with app.run_test():
        key = app.query_one(FooterKey)
        assert key._disabled is True, "FooterKey no longer keeps _disabled"


async def test_data_bind_watchers_live_in_a___watchers_dict() -> None:
    """Footer.recompose prunes the watchers its keys' data_bind leaves on it: Textual keeps them
    in a dict under the attribute '__watchers' (see textual/_watch.py)."""

    class BindApp(App[None]):
        BINDINGS = [Binding("f9", "bell", "Ring")]

        def compose(self) -> ComposeResult:
            yield Footer(compact=True)

    app = BindApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        footer = app.query_one(Footer)
        watchers = getattr(footer, "__watchers", None)
        assert isinstance(watchers, dict), "Textual no longer keeps watchers in '__watchers'"
        assert watchers.get("compact"), "FooterKey.data_bind no longer watches Footer.compact"


def test_rich_style_keeps_escape_codes_in__ansi() -> None:
    """sdtui/render/halfblock.py warm_escape_codes writes pixel styles' codes to Style._ansi,
    which Rich (and Textual's Strip.render_ansi) then use instead of building them again."""
    style = Style(color=Color.from_rgb(1, 2, 3))
    assert style._ansi is None, "rich.style.Style has no _ansi cache any more"
    style._ansi = "1"
    rendered = style.render("x", color_system=ColorSystem.TRUECOLOR)
    assert rendered == "\x1b[1mx\x1b[0m", "Rich no longer reads Style._ansi"


async def test_a_widgets_own_bindings_live_in__bindings_key_to_bindings() -> None:
    """sdtui/ui/widgets/in_order.py runs a focused widget's own binding for a key at once, read
    from `widget._bindings.key_to_bindings` (the keymap applied)."""
    from textual.widgets import Input

    class InputApp(App[None]):
        def compose(self) -> ComposeResult:
            yield Input()

    app = InputApp()
    async with app.run_test():
        found = app.query_one(Input)._bindings.key_to_bindings.get("ctrl+u", ())
        assert any(b.action.startswith("delete") for b in found), "Input._bindings moved"


def test_linux_driver_keeps__auto_restart_and__writer_thread() -> None:
    """sdtui/ui/lifecycle.py, after a hang-up, turns off the driver's restart on SIGCONT and
    swaps its output thread (textual.drivers._writer_thread.WriterThread, writing to `_file`)
    for one that drops everything."""
    import inspect
    import io

    from textual.drivers._writer_thread import WriterThread
    from textual.drivers.linux_driver import LinuxDriver

    source = inspect.getsource(LinuxDriver)
    assert "self._auto_restart" in source, "LinuxDriver no longer has _auto_restart"
    assert "self._writer_thread" in source, "LinuxDriver no longer has _writer_thread"
    # After a hang-up, lifecycle.py stops the input threads through the driver's exit_event and
    # finds them by the name Textual gives them.
    from sdtui.ui.lifecycle import INPUT_THREAD

    assert "self.exit_event" in source, "LinuxDriver no longer has exit_event"
    assert f'name="{INPUT_THREAD}"' in source, (
        f"Textual's input thread is no longer {INPUT_THREAD!r}"
    )
    assert WriterThread(io.StringIO())._file is not None, "WriterThread no longer keeps _file"


async def test_widget_scroll_update_sets_the_scrollbar_from_a_virtual_size() -> None:
    """sdtui/ui/widgets/history_list.py changes its length without a screen layout the way
    Textual's own `_size_updated(layout=False)` does: `set_reactive` + `Widget._scroll_update`."""
    from textual.geometry import Size
    from textual.scroll_view import ScrollView
    from textual.widget import Widget

    assert hasattr(Widget, "_scroll_update"), "Widget._scroll_update is gone"

    class Long(ScrollView):
        pass

    class LongApp(App[None]):
        def compose(self) -> ComposeResult:
            yield Long()

    app = LongApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(Long)
        view.virtual_size = Size(38, 100)
        await pilot.pause()
        view.set_reactive(Long.virtual_size, Size(38, 1000))
        view._scroll_update(Size(38, 1000))
        await pilot.pause()
        assert view.vertical_scrollbar.window_virtual_size == 1000
        assert view.max_scroll_y == 1000 - view.scrollable_content_region.height
