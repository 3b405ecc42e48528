"""The exported model's format, which training writes and scoring reads: the stages meet here.

A version's folder (`registry`) holds the Keras model with its preprocessing inside (its own layers in
`layers`), its metadata, and `kernel.npz` (`weights`): the same network with the preprocessing folded
into the first layer, read from the Keras model by `extract`, so scoring can run it without Keras.
"""
