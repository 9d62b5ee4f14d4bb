"""The groundwork exercises, one concept per file. Solve them in the order
`dlpath next` gives (or see exercises.yaml in dlpath: vectors, vectorise,
softmax, backprop, batchnorm, descent)."""
