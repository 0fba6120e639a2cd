"""Training data: the fingerspelling lexicon as clips on our skeleton, and continuous chains."""
