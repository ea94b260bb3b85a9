"""An SPL ``eval`` expression compiler, for props.conf EVAL- (calculated fields).

Expressions compile once to closures over a field getter, so 200k events pay no parsing.
Values are ``None`` (null), ``str``, ``int``/``float``, ``bool`` or ``list[str]`` (multivalue).
Semantics follow the Search Reference: a string that looks like a number is a number in
arithmetic and comparisons; ``+`` adds numbers and concatenates strings; ``.`` concatenates;
null propagates through operators and is false in conditions; comparisons with a multivalue
field are true when any value compares true; string functions apply to every value of a
multivalue field. Regexes (match, replace, mvfind) run on engine.regex (PCRE2, bounded); a
match limit hit raises :class:`~engine.sandbox.spl_eval.values.EvalLimitError`.

Modules: ``values`` (the value model, coercions, comparison and arithmetic), ``regexes``
(PCRE2 helpers for match/replace/like), ``functions`` (the eager function table), ``times`` and
``clock`` (now, time, strftime on the run's clock), ``searchmatch``, ``tokens`` (the tokenizer)
and ``parser`` (precedence parsing, lazy functions, :func:`compile_eval`).
"""
