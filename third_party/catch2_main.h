// Catch2 2.x single header, from Debian's catch2 package.
#pragma once
#include <catch2/catch.hpp>
