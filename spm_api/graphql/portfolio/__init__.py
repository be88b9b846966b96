"""Services through their stages: people, requirements, stakeholder input, stage history."""
