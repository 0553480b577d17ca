"""Data: the dataset table, loaders (MNIST-style files, CIFAR-10, image folders and archives), pixel
conversion and noise."""
