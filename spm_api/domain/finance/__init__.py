"""IT financial management: the books (currency, periods, categories), budgeting,
accounting, charging and the reports built on them."""
