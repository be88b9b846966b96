"""Portfolio reviews: evidence per reviewed service, recommendations, votes and the
decision that turns approved recommendations into actions."""
