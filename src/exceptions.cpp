// TODO: stub, being written.
