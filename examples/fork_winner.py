"""The child process changes a global; the parent never sees it."""

from multiprocessing import Pool, Process

winner = "The Netherlands"


def final() -> None:
    global winner
    winner = "Argentina"  # only the child's copy changes


def final_returned(team: str) -> str:
    return team  # the parent gets the value back


if __name__ == "__main__":
    child = Process(target=final)
    child.start()
    child.join()
    print(winner)  # still "The Netherlands"
    with Pool(1) as pool:
        print(pool.apply(final_returned, ("Argentina",)))
