#pragma once
// TODO: stub, being written.
