"""Composable async operators over event streams (filled in by the operator modules)."""
