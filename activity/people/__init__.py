"""One person across every vendor: the identities each source knows, the person each belongs
to, the rules that linked them and the staff decisions that override the rules.

``linking`` records identities as events arrive and links them (the same email; a vendor
directory's id to email); ``decisions`` merges and splits persons, with history and undo;
``selectors`` reads them for pages and commands.
"""
