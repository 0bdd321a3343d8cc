"""The Joiner (paper section 3.4): read the results, then answer or ask for a new plan.

:mod:`.prompts` holds its prompt, :mod:`.rounds` how a question's plans, results and feedback
are shown to it (and to the text-format replanner), :mod:`.decide` asks the joiner model and
turns its reply into an answer or a replan message, and :mod:`.decision` reads
``Finish(...)`` or ``Replan(...)`` out of that reply.
"""
