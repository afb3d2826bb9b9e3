"""The plan: one backend-neutral form of a checked filter, which every backend compiles.

- :mod:`.planner`: :func:`~.planner.compile_plan` (filter text or expression, ``schema=``, ``entity=``) →
  ``(plan, checked_expression)``; decides LANGUAGE.md section 3 (scopes, the null element, null and kind);
- :mod:`.nodes`: the plan's node types, :class:`~.nodes.PlanVisitor`, :func:`~.nodes.walk`,
  :func:`~.nodes.binders`, :func:`~.nodes.dump`;
- :mod:`.atoms`: :class:`~.atoms.Test`, one typed test on one value, and :func:`~.atoms.make_test`.

docs/architecture.md explains how to compile a plan in a new backend.  (Nothing is imported here, so that
importing :mod:`.nodes` stays cheap.)
"""
