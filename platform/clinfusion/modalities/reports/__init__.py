"""Free-text reports: reading, section and sentence splitting, PHI scrubbing, negation-aware
finding extraction, sentence-embedding encoders and the findings export."""
