"""Forms of the pages' actions. The person page's staff forms leave a missing reason to the
decisions module, so every page and command refuses it with the same message."""

from __future__ import annotations

from django import forms


class RereadForm(forms.Form):
    """The window of "Re-read this window": two ISO 8601 times (with their offset)."""

    start = forms.DateTimeField()
    stop = forms.DateTimeField()


class MergeForm(forms.Form):
    other = forms.IntegerField(min_value=1, label="Person id")
    reason = forms.CharField(required=False, max_length=2000)


class SplitForm(forms.Form):
    identity = forms.IntegerField(min_value=1)
    reason = forms.CharField(required=False, max_length=2000)


class UndoForm(forms.Form):
    decision = forms.IntegerField(min_value=1)
    reason = forms.CharField(required=False, max_length=2000)


class TriageForm(forms.Form):
    """An alert's new state and note; the triage service decides what it accepts, so the
    page and the admin refuse the same input with the same message."""

    state = forms.CharField(max_length=20)
    note = forms.CharField(required=False, max_length=2000)
