"""Forms of the pages' actions."""

from __future__ import annotations

from django import forms


class RereadForm(forms.Form):
    """The window of "Re-read this window": two ISO 8601 times (with their offset)."""

    start = forms.DateTimeField()
    stop = forms.DateTimeField()
