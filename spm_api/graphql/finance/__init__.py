"""Customers, budgets, cost, charging and statements."""
