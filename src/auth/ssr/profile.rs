//! The signed-in user's own profile (SPEC 1.4): name, phone, region, language.

use crate::{
    auth::{Profile, ProfileInput},
    error::AppError,
    server::{session::SignedIn, state::AppState},
    services::audit::{Action, Actor, Changes, Record},
};
use sqlx::PgPool;

pub async fn profile(db: &PgPool, user: &SignedIn) -> Result<Profile, AppError> {
    let row = sqlx::query!(
        "SELECT email, display_name, phone, region, language FROM users
          WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2",
        user.user_id(),
        user.account_id()
    )
    .fetch_one(db)
    .await?;
    Ok(Profile { email: row.email, display_name: row.display_name, phone: row.phone, region: row.region, language: row.language })
}

/// Saves what changed (nothing to save writes nothing).
pub async fn update_profile(state: &AppState, user: &SignedIn, input: &ProfileInput) -> Result<(), AppError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let before = sqlx::query!(
        "SELECT display_name, phone, region, language FROM users
          WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2 FOR NO KEY UPDATE",
        user.user_id(),
        user.account_id()
    )
    .fetch_one(&mut *tx)
    .await?;
    let changes = Changes::default()
        .field("display_name", &before.display_name, &input.display_name)
        .field("phone", &before.phone, &input.phone)
        .field("region", &before.region, &input.region)
        .field("language", &before.language, &input.language);
    if changes.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "UPDATE users SET display_name = $3, phone = $4, region = $5, language = $6, updated_at = $7,
                          version = version + 1
          WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2",
        user.user_id(),
        user.account_id(),
        input.display_name,
        input.phone,
        input.region,
        input.language,
        now
    )
    .execute(&mut *tx)
    .await?;
    Actor::signed_in(user, now).audit(&mut tx, Action::UserProfileUpdated, Record::user(user.user_id()), changes).await?;
    tx.commit().await?;
    Ok(())
}
