"""Measuring how models think: budgets, metrics, evaluation and benchmarks per budget, results files, sizing."""
