"""The groundwork exercises, one concept per file. Solve them in the order
`dlpath next` gives: vectors, vectorise, softmax, backprop, autograd,
batchnorm, init, descent, optimisers, conv, network. `dlpath hint` gives a
hint one level at a time; `dlpath watch` re-runs the tests as you save."""
