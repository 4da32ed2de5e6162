#!/usr/bin/env bash
# Add the release $TAG to index.yaml on the gh-pages branch (the `helm repo add` repository).
#
# Run from a checkout of the tag. Each attempt starts from the branch tip as it is on the remote
# now, merges the release into that index.yaml with `ameide-release index` (idempotent: a listed
# version with the same digest is a no-op, a different digest fails with exit 3) and pushes a
# commit whose parent is that tip, without --force. If another job pushed in between, the push is
# rejected as non-fast-forward and the next attempt starts over from the new tip. Re-merging the
# fresh index is the rebase here: two edits of index.yaml always conflict as text, never as data.
# Only that rejection is retried: any other failure to read or write the remote (a refused
# token, a protected branch, a network error) stops at once with exit 4, like every remote
# failure of ameide-release; `index` itself exits 2 or 3 on bad input or a conflict.
#
# Only gh-pages is written, and only index.yaml and the page made from it (index.html) on it; the checkout's branch, index and working
# tree are not touched (the commit is built with a private index file). The token, when given in
# GH_TOKEN, is handed to git fetch/push only, as an HTTP header in the environment, never on a
# command line or in .git/config.
#
# Environment: TAG (default $GITHUB_REF_NAME), GH_TOKEN (optional), PAGES_BRANCH (gh-pages),
# PAGES_REMOTE (origin), PAGES_ATTEMPTS (5), PAGES_RETRY_DELAY (seconds, doubled each retry: 2),
# AMEIDE_RELEASE (the command, default ameide-release).
set -euo pipefail

tag=${TAG:-${GITHUB_REF_NAME:-}}
if [ -z "$tag" ]; then
  echo "::error::pages-index: set TAG to the release tag" >&2
  exit 2
fi
branch=${PAGES_BRANCH:-gh-pages}
remote=${PAGES_REMOTE:-origin}
# Talk to the URL, not the remote's name, so git does not update refs/remotes/* in the checkout.
remote=$(git remote get-url "$remote" 2>/dev/null || printf '%s' "$remote")
attempts=${PAGES_ATTEMPTS:-5}
delay=${PAGES_RETRY_DELAY:-2}
read -r -a release_cmd <<<"${AMEIDE_RELEASE:-ameide-release}"

remote_git() {
  # git with the token for this one command; nothing is written to .git/config.
  if [ -n "${GH_TOKEN:-}" ]; then
    local basic
    basic=$(printf 'x-access-token:%s' "$GH_TOKEN" | base64 | tr -d '\n')
    [ "${GITHUB_ACTIONS:-}" = true ] && echo "::add-mask::$basic"
    GIT_CONFIG_COUNT=1 \
      GIT_CONFIG_KEY_0="http.https://github.com/.extraheader" \
      GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $basic" \
      git "$@"
  else
    git "$@"
  fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for attempt in $(seq 1 "$attempts"); do
  rm -rf "$work/site" "$work/index"
  mkdir "$work/site"

  # Where is the branch now? (ls-remote exits 2 when the ref does not exist.)
  set +e
  remote_git ls-remote --exit-code "$remote" "refs/heads/$branch" >/dev/null
  status=$?
  set -e
  parent=()
  if [ "$status" = 0 ]; then
    if ! remote_git fetch --quiet --no-tags "$remote" "refs/heads/$branch"; then
      echo "::error::pages-index: cannot fetch the remote's $branch; re-run the job (it is safe to repeat)" >&2
      exit 4
    fi
    tip=$(git rev-parse --verify "FETCH_HEAD^{commit}")
    parent=(-p "$tip")
    for file in index.yaml index.html; do
      if git cat-file -e "$tip:$file" 2>/dev/null; then
        git cat-file blob "$tip:$file" >"$work/site/$file"
      fi
    done
    GIT_INDEX_FILE="$work/index" git read-tree "$tip"
  elif [ "$status" = 2 ]; then
    echo "pages-index: $branch does not exist yet; creating it"
    GIT_INDEX_FILE="$work/index" git read-tree --empty
  else
    echo "::error::pages-index: cannot read the remote's $branch (git ls-remote exit $status)" >&2
    exit 4
  fi

  before=$({ cat "$work/site/index.yaml" "$work/site/index.html" 2>/dev/null || true; } \
    | git hash-object --stdin)
  "${release_cmd[@]}" index --tag "$tag" --index-dir "$work/site"
  after=$(cat "$work/site/index.yaml" "$work/site/index.html" | git hash-object --stdin)
  if [ "$after" = "$before" ]; then
    echo "pages-index: $branch already lists $tag; nothing to push"
    exit 0
  fi

  for file in index.yaml index.html; do
    blob=$(git hash-object -w "$work/site/$file")
    GIT_INDEX_FILE="$work/index" git update-index --add --cacheinfo "100644,$blob,$file"
  done
  tree=$(GIT_INDEX_FILE="$work/index" git write-tree)
  commit=$(GIT_AUTHOR_NAME="github-actions[bot]" \
    GIT_AUTHOR_EMAIL="41898282+github-actions[bot]@users.noreply.github.com" \
    GIT_COMMITTER_NAME="github-actions[bot]" \
    GIT_COMMITTER_EMAIL="41898282+github-actions[bot]@users.noreply.github.com" \
    git commit-tree "$tree" "${parent[@]}" -m "index: add $tag")

  # --porcelain: one line per ref, "!<TAB>src:dst<TAB>[rejected] (fetch first)" when the
  # branch moved on since the fetch; anything else that fails is no race.
  set +e
  report=$(remote_git push --porcelain "$remote" "$commit:refs/heads/$branch")
  status=$?
  set -e
  if [ "$status" = 0 ]; then
    echo "pages-index: pushed $tag to $branch ($commit)"
    exit 0
  fi
  if ! printf '%s\n' "$report" | grep -Eq $'^!\t[^\t]*\t\\[rejected\\] \\((fetch first|non-fast-forward)\\)'; then
    printf '%s\n' "$report" | sed -n 's/^!\t[^\t]*\t/pages-index: push refused: /p' >&2
    echo "::error::pages-index: $branch refused the push (git push exit $status), not because another release pushed first; check the token's contents: write and the branch's protection, then re-run" >&2
    exit 4
  fi
  if [ "$attempt" -lt "$attempts" ]; then
    echo "pages-index: push rejected (attempt $attempt/$attempts); retrying from the new tip"
    sleep "$delay"
    delay=$((delay * 2))
  fi
done

echo "::error::pages-index: could not push index.yaml to $branch after $attempts attempts; re-run the job (it is safe to repeat)" >&2
exit 4
