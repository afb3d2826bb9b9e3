"""A Django app whose models mirror tests/test_django_differential.py's schema."""
