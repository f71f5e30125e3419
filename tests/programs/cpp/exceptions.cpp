// C++ exceptions compiled to Wasm 3.0 exception handling (try_table/throw/throw_ref):
// destructors during unwinding, catch by base class, rethrow, non-class exceptions,
// catch(...), throws from a handler, and many short-lived exceptions in a loop.
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

static int live_guards = 0;

struct Guard {
    const char *name;
    explicit Guard(const char *n) : name(n) {
        live_guards++;
        std::printf("  enter %s\n", name);
    }
    ~Guard() {
        live_guards--;
        std::printf("  leave %s\n", name);
    }
};

struct ParseError : std::runtime_error {
    int pos;
    ParseError(const std::string &what, int p) : std::runtime_error(what), pos(p) {}
};

static int digit(char c, int pos) {
    if (c < '0' || c > '9') throw ParseError(std::string("not a digit: ") + c, pos);
    return c - '0';
}

static int sum_digits(const char *s) {
    Guard g("sum_digits");
    int sum = 0;
    for (int i = 0; s[i]; i++) sum += digit(s[i], i);
    return sum;
}

static int depth(int n) {
    Guard g("depth");
    if (n == 0) throw std::out_of_range("bottom");
    return depth(n - 1) + 1;
}

static void rethrower() {
    try {
        sum_digits("12x4");
    } catch (const ParseError &e) {
        std::printf("rethrowing \"%s\" at %d\n", e.what(), e.pos);
        throw;
    }
}

int main() {
    std::printf("sum_digits(\"123\") = %d\n", sum_digits("123"));

    try {
        sum_digits("9a");
    } catch (const std::exception &e) {
        std::printf("caught std::exception: %s\n", e.what());
    }

    try {
        depth(2);
    } catch (const std::logic_error &e) {
        std::printf("caught logic_error: %s (guards alive: %d)\n", e.what(), live_guards);
    }

    try {
        rethrower();
    } catch (const ParseError &e) {
        std::printf("caught again at %d\n", e.pos);
    }

    for (int i = 0; i < 4; i++) {
        try {
            switch (i) {
            case 0: throw 7;
            case 1: throw 2.5;
            case 2: throw "text";
            default: std::printf("no throw\n");
            }
        } catch (int v) {
            std::printf("int %d\n", v);
        } catch (double d) {
            std::printf("double %.1f\n", d);
        } catch (...) {
            std::printf("something else\n");
        }
    }

    try {
        try {
            throw std::runtime_error("inner");
        } catch (const std::runtime_error &e) {
            std::printf("inner caught: %s\n", e.what());
            throw std::logic_error("thrown from a handler");
        }
    } catch (const std::logic_error &e) {
        std::printf("outer caught: %s\n", e.what());
    }

    int caught = 0;
    long total = 0;
    for (int i = 0; i < 10000; i++) {
        try {
            auto p = std::make_unique<int>(i);
            if (*p % 3 == 0) throw std::invalid_argument(std::to_string(*p));
            total += *p;
        } catch (const std::invalid_argument &e) {
            caught++;
            total -= std::stoi(e.what());
        }
    }
    std::printf("caught %d of 10000, total %ld\n", caught, total);
    return 0;
}
