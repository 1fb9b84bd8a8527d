"""Raw-array compute kernels (NumPy on CPU, CuPy on GPU) wrapped by minigrad's ops.

``kernels.conv`` holds the convolution trio -- ``conv2d``, ``conv2d_input_grad``
(== conv_transpose2d) and ``conv2d_weight_grad`` -- which are each other's
adjoints, so every derivative order of a convolution is built from these three.
``kernels.numba_cpu`` holds optional Numba CPU kernels for the data-movement
halves (im2col / col2im); NumPy fallbacks are always available.
"""
