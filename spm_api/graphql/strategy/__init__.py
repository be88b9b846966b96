"""Service strategy: business cases, risks, strategic objectives and alignment."""
