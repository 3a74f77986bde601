"""`fakeapollo record`: the recording proxy, its folder writer, the credit cap and scrubbing."""
