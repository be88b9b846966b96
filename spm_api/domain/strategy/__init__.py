"""Service strategy: business cases, risks, strategic objectives and the investment mix."""
