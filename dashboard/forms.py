"""The staff forms of the person page. A missing reason is left to the decisions module, so
every page and command refuses it with the same message."""

from __future__ import annotations

from django import forms


class MergeForm(forms.Form):
    other = forms.IntegerField(min_value=1, label="Person id")
    reason = forms.CharField(required=False, max_length=2000)


class SplitForm(forms.Form):
    identity = forms.IntegerField(min_value=1)
    reason = forms.CharField(required=False, max_length=2000)


class UndoForm(forms.Form):
    decision = forms.IntegerField(min_value=1)
    reason = forms.CharField(required=False, max_length=2000)
