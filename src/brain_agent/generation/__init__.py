"""Generation: prompt rendering, the alpha maker and the budget layer."""
